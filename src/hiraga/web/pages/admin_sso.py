"""Administration of single sign-on (system admins): providers, mapping rules and SCIM tokens. The work
is ``identity.sso.providers`` and ``identity.sso.scim.tokens`` (audited there); these handlers translate
forms and choose the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import InvalidInput
from hiraga.identity import directory
from hiraga.identity.sso import providers
from hiraga.identity.sso.mapping import GRANTS
from hiraga.identity.sso.scim import tokens as scim_tokens
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PageRoute, SystemAdminPageScope, form_answer, form_redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Text = Annotated[str, Form()]
PAGE = "/admin/sso"


def sso_context(db: Session, scope: AccessScope, settings: Settings, **extra: Any) -> dict[str, Any]:
    scope.require_system_admin()
    rows = providers.list_providers(db)
    return {
        "providers": [(row, providers.redirect_uri(settings, row.slug)) for row in rows],
        "provider_names": {row.id: row.display_name for row in rows},
        "rules": providers.list_rules(db),
        "teams": directory.list_teams(db, scope),
        "grants": GRANTS,
        "scim_tokens": scim_tokens.list_tokens(db),
        "scim_url": settings.base_url.rstrip("/") + "/scim/v2",
        "logout_uri": settings.base_url.rstrip("/") + "/login?notice=logged_out",
        "form": {},
        "notice": "",
        "new_token": None,
        **extra,
    }


@router.get(PAGE)
def sso_home(request: Request, db: DbSession, scope: SystemAdminPageScope, notice: str = "") -> Response:
    return render(request, "admin_sso.html", sso_context(db, scope, app_context(request).settings, notice=notice))


def _attempt(
    request: Request, db: Session, scope: AccessScope, action: Callable[[], object], notice: str, form: dict[str, str]
) -> Response:
    settings = app_context(request).settings
    return form_redirect(
        request,
        db,
        action,
        then=f"{PAGE}?notice={notice}",
        template="admin_sso.html",
        context=lambda: sso_context(db, scope, settings, form=form),
    )


@router.post(PAGE + "/providers")
def add_provider(
    request: Request,
    db: DbSession,
    scope: SystemAdminPageScope,
    slug: Text = "",
    display_name: Text = "",
    issuer: Text = "",
    client_id: Text = "",
    client_secret: Text = "",
    scopes: Text = "openid email profile",
    groups_claim: Text = "groups",
    allow_unverified_email: Text = "",
) -> Response:
    data = providers.ProviderInput(
        slug.strip(),
        display_name,
        issuer,
        client_id,
        client_secret or None,
        scopes,
        groups_claim.strip(),
        require_verified_email=not allow_unverified_email,
    )
    settings = app_context(request).settings
    form = {"slug": slug, "display_name": display_name, "issuer": issuer, "client_id": client_id}
    action = lambda: providers.create_provider(db, scope, data, settings)  # noqa: E731
    return _attempt(request, db, scope, action, "provider_created", form)


@router.post(PAGE + "/providers/{slug}/enabled")
def set_enabled(
    request: Request, db: DbSession, scope: SystemAdminPageScope, slug: str, enabled: Text = ""
) -> Response:
    action = lambda: providers.set_enabled(db, scope, slug[:40], bool(enabled))  # noqa: E731
    return _attempt(request, db, scope, action, "provider_saved", {})


@router.post(PAGE + "/rules")
def add_rule(
    request: Request,
    db: DbSession,
    scope: SystemAdminPageScope,
    claim: Text = "",
    value: Text = "",
    grant: Text = "",
    team_id: Text = "",
    provider_slug: Text = "",
) -> Response:
    def action() -> object:
        team = _team_id(team_id)
        provider = provider_slug or None
        return providers.add_rule(
            db, scope, claim=claim.strip(), value=value, grant=grant, team_id=team, provider_slug=provider
        )

    form = {"claim": claim, "value": value}
    return _attempt(request, db, scope, action, "rule_created", form)


def _team_id(raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("チームを選んでください。", detail={"field": "team"})
    return int(raw)


@router.post(PAGE + "/rules/{rule_id}/remove")
def remove_rule(request: Request, db: DbSession, scope: SystemAdminPageScope, rule_id: RowId) -> Response:
    return _attempt(request, db, scope, lambda: providers.remove_rule(db, scope, rule_id), "rule_removed", {})


@router.post(PAGE + "/scim-tokens")
def create_scim_token(request: Request, db: DbSession, scope: SystemAdminPageScope, name: Text = "") -> Response:
    """Not a redirect: the token is shown on this answer once and never again."""
    issued: list[scim_tokens.IssuedScimToken] = []
    settings = app_context(request).settings
    return form_answer(
        request,
        db,
        lambda: issued.append(scim_tokens.issue(db, scope, name)),
        success=lambda: render(
            request,
            "admin_sso.html",
            sso_context(db, scope, settings, new_token=issued[0].secret),
            headers={"Cache-Control": "no-store"},
        ),
        template="admin_sso.html",
        context=lambda: sso_context(db, scope, settings, form={"token_name": name}),
    )


@router.post(PAGE + "/scim-tokens/{token_id}/revoke")
def revoke_scim_token(request: Request, db: DbSession, scope: SystemAdminPageScope, token_id: RowId) -> Response:
    return _attempt(request, db, scope, lambda: scim_tokens.revoke(db, scope, token_id), "token_revoked", {})
