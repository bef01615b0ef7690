"""Provider and mapping-rule administration (system admins only; every change audited), and the
relying party for a provider. The client secret is encrypted at rest with its own derived key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import ConfigurationError, InvalidInput, NotFound
from hiraga.gateway.secrets import SecretBox
from hiraga.gateway.ssrf import check_upstream_url
from hiraga.identity.directory import clean_name
from hiraga.identity.sso import oidc
from hiraga.identity.sso.errors import SsoFailed
from hiraga.identity.sso.mapping import GRANTS, TEAM_GRANTS
from hiraga.names import check_characters
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import SsoMappingRule, SsoProvider, Team

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
CLAIM = re.compile(r"^[A-Za-z0-9_:/.\-]{1,100}$")


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret(), info=b"hiraga/sso/secrets/v1", aad=b"hiraga sso secret")


@dataclass(frozen=True, slots=True)
class ProviderInput:
    slug: str
    display_name: str
    issuer: str
    client_id: str
    client_secret: str | None = None
    scopes: str = "openid email profile"
    groups_claim: str = "groups"
    require_verified_email: bool = True
    jit_provisioning: bool = True


def _checked(data: ProviderInput, settings: Settings) -> ProviderInput:
    if not SLUG.match(data.slug):
        raise InvalidInput("識別名は英小文字・数字・ハイフンで 1〜40 文字にしてください。", detail={"field": "slug"})
    issuer = data.issuer.strip()
    if settings.environment == "production" and urlsplit(issuer).scheme != "https":
        raise InvalidInput("本番モードでは発行者 URL は https:// にしてください。", detail={"field": "issuer"})
    try:
        check_upstream_url(issuer, settings.allowed_upstream_hosts)
    except InvalidInput as error:
        raise InvalidInput(error.message, code=error.code, detail={"field": "issuer"}) from None
    scopes = " ".join(data.scopes.split())
    if "openid" not in scopes.split():
        raise InvalidInput("スコープには openid を含めてください。", detail={"field": "scopes"})
    client_id = check_characters(data.client_id.strip(), "client_id")
    if not client_id or len(client_id) > 300:
        raise InvalidInput("クライアント ID を 1〜300 文字で入力してください。", detail={"field": "client_id"})
    if not CLAIM.match(data.groups_claim):
        raise InvalidInput("グループのクレーム名が正しくありません。", detail={"field": "groups_claim"})
    return ProviderInput(
        data.slug,
        clean_name(data.display_name, "display_name"),
        issuer,
        client_id,
        data.client_secret or None,
        scopes[:300],
        data.groups_claim,
        data.require_verified_email,
        data.jit_provisioning,
    )


def create_provider(db: Session, scope: AccessScope, data: ProviderInput, settings: Settings) -> SsoProvider:
    scope.require_system_admin()
    data = _checked(data, settings)
    if db.scalar(select(SsoProvider).where(SsoProvider.slug == data.slug)) is not None:
        raise InvalidInput("同じ識別名のプロバイダーが既にあります。", code="conflict", detail={"field": "slug"})
    secret = secret_box(settings).encrypt(data.client_secret) if data.client_secret else None
    row = SsoProvider(
        slug=data.slug,
        display_name=data.display_name,
        issuer=data.issuer,
        client_id=data.client_id,
        client_secret_enc=secret,
        scopes=data.scopes,
        groups_claim=data.groups_claim,
        require_verified_email=data.require_verified_email,
        jit_provisioning=data.jit_provisioning,
    )
    db.add(row)
    db.flush()
    events.record(db, events.SSO_PROVIDER_CREATED, scope.principal, subject=row.slug, detail=_facts(row))
    return row


def _facts(row: SsoProvider) -> dict[str, object]:
    """What the audit record says about a provider: never the secret, only whether one is set."""
    return {
        "provider_id": row.id,
        "issuer": row.issuer,
        "client_id": row.client_id,
        "has_client_secret": row.client_secret_enc is not None,
        "scopes": row.scopes,
        "require_verified_email": row.require_verified_email,
        "jit_provisioning": row.jit_provisioning,
        "enabled": row.enabled,
    }


def set_enabled(db: Session, scope: AccessScope, slug: str, enabled: bool) -> SsoProvider:
    scope.require_system_admin()
    row = get_provider(db, slug)
    if row.enabled != enabled:
        row.enabled = enabled
        db.flush()
        events.record(db, events.SSO_PROVIDER_CHANGED, scope.principal, subject=row.slug, detail=_facts(row))
    return row


def remove_provider(db: Session, scope: AccessScope, slug: str) -> None:
    scope.require_system_admin()
    row = get_provider(db, slug)
    facts = _facts(row)
    db.delete(row)
    db.flush()
    oidc.forget_cached(row.issuer)
    events.record(db, events.SSO_PROVIDER_REMOVED, scope.principal, subject=slug, detail=facts)


def get_provider(db: Session, slug: str) -> SsoProvider:
    row = db.scalar(select(SsoProvider).where(SsoProvider.slug == slug))
    if row is None:
        raise NotFound(f"プロバイダー「{slug[:40]}」が見つかりません。")
    return row


def list_providers(db: Session, *, enabled_only: bool = False) -> list[SsoProvider]:
    stmt = select(SsoProvider).order_by(SsoProvider.display_name, SsoProvider.id)
    if enabled_only:
        stmt = stmt.where(SsoProvider.enabled.is_(True))
    return list(db.scalars(stmt))


def redirect_uri(settings: Settings, slug: str) -> str:
    return f"{settings.base_url.rstrip('/')}/auth/sso/{slug}/callback"


def relying_party(provider: SsoProvider, settings: Settings) -> oidc.RelyingParty:
    secret = None
    if provider.client_secret_enc:
        try:
            secret = secret_box(settings).decrypt(provider.client_secret_enc)
        except ConfigurationError as error:
            raise SsoFailed("provider_unavailable", detail={"error": "client_secret_unreadable"}) from error
    config = oidc.RelyingPartyConfig(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=secret,
        scopes=provider.scopes,
        redirect_uri=redirect_uri(settings, provider.slug),
        allowed_hosts=tuple(settings.allowed_upstream_hosts),
        timeout=settings.sso_http_timeout_seconds,
    )
    return oidc.RelyingParty(config)


# -- mapping rules ---------------------------------------------------------------------------------
def add_rule(
    db: Session,
    scope: AccessScope,
    *,
    claim: str,
    value: str,
    grant: str,
    team_id: int | None = None,
    provider_slug: str | None = None,
) -> SsoMappingRule:
    scope.require_system_admin()
    if not CLAIM.match(claim):
        raise InvalidInput("クレーム名が正しくありません（英数字と _ : / . - のみ）。", detail={"field": "claim"})
    text = check_characters(value.strip(), "value")
    if not text or len(text) > 300:
        raise InvalidInput("値を 1〜300 文字で入力してください。", detail={"field": "value"})
    if grant not in GRANTS:
        raise InvalidInput(f"付与する役割は {', '.join(GRANTS)} のいずれかです。", detail={"field": "grant"})
    if (grant in TEAM_GRANTS) != (team_id is not None):
        raise InvalidInput(
            "member と admin にはチームを、それ以外にはチームなしを指定してください。", detail={"field": "team"}
        )
    if team_id is not None and db.get(Team, team_id) is None:
        raise NotFound("指定されたチームが見つかりません。", detail={"field": "team"})
    provider_id = get_provider(db, provider_slug).id if provider_slug else None
    rule = SsoMappingRule(provider_id=provider_id, claim=claim, value=text, grant=grant, team_id=team_id)
    db.add(rule)
    db.flush()
    events.record(db, events.SSO_RULE_CREATED, scope.principal, team_id=team_id, detail=_rule_facts(rule))
    return rule


def _rule_facts(rule: SsoMappingRule) -> dict[str, object]:
    return {
        "rule_id": rule.id,
        "provider_id": rule.provider_id,
        "claim": rule.claim,
        "value": rule.value,
        "grant": rule.grant,
    }


def remove_rule(db: Session, scope: AccessScope, rule_id: int) -> None:
    scope.require_system_admin()
    rule = db.get(SsoMappingRule, rule_id)
    if rule is None:
        raise NotFound("指定されたルールが見つかりません。")
    facts, team_id = _rule_facts(rule), rule.team_id
    db.delete(rule)
    db.flush()
    events.record(db, events.SSO_RULE_REMOVED, scope.principal, team_id=team_id, detail=facts)


def list_rules(db: Session) -> list[SsoMappingRule]:
    return list(db.scalars(select(SsoMappingRule).order_by(SsoMappingRule.id)))
