"""One OpenID Connect sign-in, start to finish.

``begin`` keeps the state (as a digest), the nonce and the PKCE verifier server-side, bound to a random
browser cookie, and returns the provider's URL. ``complete`` consumes that row first (a replayed or
foreign state fails), exchanges the code, validates the ID token, reads userinfo, finds or links or
creates the user (just-in-time), applies the mapping rules and starts a session. Every refusal is
rolled back (nothing created) and written to the audit chain with its reason; a success is audited
with what it created and changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import InvalidInput
from hiraga.identity import directory, tokens
from hiraga.identity.principal import Principal
from hiraga.identity.sso import mapping
from hiraga.identity.sso.errors import SsoFailed
from hiraga.identity.sso.providers import get_provider, relying_party, secret_box
from hiraga.identity.web_sessions import start_session
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import (
    ScimGroup,
    ScimGroupMember,
    SsoIdentity,
    SsoLoginState,
    SsoProvider,
    SsoSession,
    User,
)

STATE_LIFETIME = timedelta(minutes=10)
SSO_OPERATOR = Principal(user_id=0, email="sso@localhost", display_name="SSO", is_system_admin=True, via="sso")


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    session_token: str
    next_path: str


def begin(db: Session, settings: Settings, slug: str, *, browser_token: str, next_path: str, client_ip: str) -> str:
    try:
        return _begin(db, settings, slug, browser_token, next_path)
    except SsoFailed as failure:
        db.rollback()
        _audit_refusal(db, _Attempt(slug, client_ip), failure)
        raise


def _begin(db: Session, settings: Settings, slug: str, browser_token: str, next_path: str) -> str:
    provider = get_provider(db, slug)
    if not provider.enabled:
        raise SsoFailed("provider_disabled")
    state, nonce, verifier = tokens.new_token(), tokens.new_token(), tokens.new_token(48)
    url = relying_party(provider, settings).authorization_url(state=state, nonce=nonce, code_verifier=verifier)
    now = datetime.now(UTC)
    db.execute(delete(SsoLoginState).where(SsoLoginState.expires_at < now))
    db.add(
        SsoLoginState(
            state_digest=tokens.digest(state),
            browser_digest=tokens.digest(browser_token),
            provider_id=provider.id,
            nonce=nonce,
            code_verifier=verifier,
            next_path=next_path,
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    db.flush()
    return url


@dataclass(slots=True)
class _Attempt:
    slug: str
    client_ip: str
    email: str | None = None
    user_id: int | None = None


def complete(
    db: Session,
    settings: Settings,
    slug: str,
    *,
    params: dict[str, str],
    browser_token: str | None,
    client_ip: str,
    session_ttl_hours: int,
) -> SignedIn:
    attempt = _Attempt(slug, client_ip)
    try:
        return _complete(db, settings, attempt, params, browser_token, session_ttl_hours)
    except SsoFailed as failure:
        db.rollback()
        _audit_refusal(db, attempt, failure)
        raise


@dataclass(frozen=True, slots=True)
class _Pending:
    provider_id: int
    browser_digest: str
    nonce: str
    code_verifier: str
    next_path: str
    expires_at: datetime


def _consume_state(db: Session, slug: str, state: str, browser_token: str | None) -> _Pending:
    """The pending sign-in, deleted (and committed) before anything else: a state works once, also when
    two requests bring it at the same moment (only the one whose DELETE removed the row goes on)."""
    digest = tokens.digest(state) if state else ""
    row = db.scalar(select(SsoLoginState).where(SsoLoginState.state_digest == digest)) if state else None
    pending = None
    if row is not None:
        pending = _Pending(
            row.provider_id, row.browser_digest, row.nonce, row.code_verifier, row.next_path, row.expires_at
        )
        db.expunge(row)
        result = cast(
            "CursorResult[Any]", db.execute(delete(SsoLoginState).where(SsoLoginState.state_digest == digest))
        )
        db.commit()
        pending = pending if result.rowcount == 1 else None
    provider = db.get(SsoProvider, pending.provider_id) if pending is not None else None
    if (
        pending is None
        or provider is None
        or provider.slug != slug
        or pending.expires_at <= datetime.now(UTC)
        or not browser_token
        or not tokens.same(pending.browser_digest, tokens.digest(browser_token))
    ):
        raise SsoFailed("state_invalid")
    return pending


def _complete(
    db: Session,
    settings: Settings,
    attempt: _Attempt,
    params: dict[str, str],
    browser_token: str | None,
    session_ttl_hours: int,
) -> SignedIn:
    pending = _consume_state(db, attempt.slug, params.get("state", ""), browser_token)
    provider = get_provider(db, attempt.slug)
    if not provider.enabled:
        raise SsoFailed("provider_disabled")
    if params.get("error"):
        raise SsoFailed("provider_error", detail={"error": params["error"][:100]})
    if not params.get("code"):
        raise SsoFailed("provider_error", detail={"error": "no_code"})
    rp = relying_party(provider, settings)
    token = rp.exchange_code(code=params["code"], code_verifier=pending.code_verifier)
    claims = rp.validate_id_token(token["id_token"], nonce=pending.nonce, access_token=token["access_token"])
    claims = {**rp.userinfo(token["access_token"], claims["sub"]), **claims}
    user = _resolve_user(db, settings, provider, claims, attempt)
    token_for_cookie = start_session(db, user.id, session_ttl_hours)
    db.add(
        SsoSession(
            session_digest=tokens.digest(token_for_cookie),
            provider_id=provider.id,
            id_token_enc=secret_box(settings).encrypt(token["id_token"]),
        )
    )
    db.flush()
    return SignedIn(user, token_for_cookie, pending.next_path)


def _email(provider: SsoProvider, claims: dict[str, Any]) -> str:
    raw = claims.get("email")
    if not isinstance(raw, str) or not raw:
        raise SsoFailed("email_missing")
    try:
        address = directory.normalise_email(raw)
    except InvalidInput as error:
        raise SsoFailed("email_missing", detail={"error": "malformed"}) from error
    if provider.require_verified_email and claims.get("email_verified") is not True:
        raise SsoFailed("email_unverified", detail={"email": address})
    return address


def _resolve_user(
    db: Session, settings: Settings, provider: SsoProvider, claims: dict[str, Any], attempt: _Attempt
) -> User:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoFailed("token_invalid", detail={"check": "sub"})
    attempt.email = _email(provider, claims)
    identity = db.scalar(
        select(SsoIdentity).where(SsoIdentity.provider_id == provider.id, SsoIdentity.subject == subject)
    )
    user = identity.user if identity else db.scalar(select(User).where(User.email == attempt.email))
    if user is not None:
        attempt.user_id = user.id
        if user.email in settings.break_glass_admins:
            raise SsoFailed("break_glass_account")
        if not user.is_active:
            raise SsoFailed("account_inactive")
    elif not provider.jit_provisioning:
        raise SsoFailed("no_account")
    claims = _with_scim_groups(db, provider, claims, user)
    grants = mapping.evaluate(mapping.rules_for(db, provider.id), claims)
    if not mapping.would_have_access(db, user, grants):
        raise SsoFailed(
            "no_mapping", detail={"groups": sorted(mapping.claim_values(claims, provider.groups_claim))[:20]}
        )
    created = user is None
    if user is None:
        name = claims.get("name")
        display = name if isinstance(name, str) else ""
        scope = AccessScope(SSO_OPERATOR)
        user = directory.create_user(db, scope, email=attempt.email, password=None, display_name=display)
        attempt.user_id = user.id
    if identity is None:
        identity = SsoIdentity(provider_id=provider.id, subject=subject, user_id=user.id)
        db.add(identity)
    identity.last_login_at = datetime.now(UTC)
    actor = _actor(user, attempt.client_ip)
    changes = mapping.apply(db, user, grants, actor, source=f"oidc:{provider.slug}")
    facts = {"provider": provider.slug, "subject": subject, "user_created": created, "user_id": user.id}
    facts |= {k: v for k, v in changes.items() if k.startswith(("teams_", "roles", "platform_"))}
    events.record(db, events.SSO_LOGIN, actor, subject=provider.slug, detail=facts)
    return user


def _with_scim_groups(db: Session, provider: SsoProvider, claims: dict[str, Any], user: User | None) -> dict[str, Any]:
    """A token without the groups claim: the user's SCIM groups (names and external ids) stand in for it."""
    if provider.groups_claim in claims or user is None:
        return claims
    groups = db.execute(
        select(ScimGroup.display_name, ScimGroup.external_id)
        .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
        .where(ScimGroupMember.user_id == user.id)
    ).all()
    names = [value for row in groups for value in row if value]
    return {**claims, provider.groups_claim: names} if names else claims


def _actor(user: User, client_ip: str) -> Principal:
    return Principal(
        user_id=user.id, email=user.email, display_name=user.display_name, via="session", client_address=client_ip
    )


def _audit_refusal(db: Session, attempt: _Attempt, failure: SsoFailed) -> None:
    detail = {"provider": attempt.slug, "reason": failure.reason}
    if isinstance(failure.detail, dict):
        detail |= {k: v for k, v in failure.detail.items() if k != "reason"}
    row = events.event_row(
        events.SSO_LOGIN_REFUSED,
        None,
        subject=attempt.slug,
        detail=detail,
        outcome="refused",
        error_code=failure.code,
        client_address=attempt.client_ip,
        source="sso",
    )
    row["actor_email"], row["actor_user_id"] = attempt.email, attempt.user_id
    events.record_refusal(db, row)
