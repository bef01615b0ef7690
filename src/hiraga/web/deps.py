"""FastAPI dependencies: the spine's first two steps wired to HTTP, and the database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hiraga import i18n
from hiraga.errors import NotAuthenticated
from hiraga.identity.principal import Principal
from hiraga.net.client_address import UNKNOWN
from hiraga.spine import authenticate
from hiraga.spine.authorize import AccessScope
from hiraga.web import csrf
from hiraga.web.context import AppContext

SESSION_COOKIE = "hiraga_session"
LANG_COOKIE = "hiraga_lang"


def app_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str:
    """Where the request came from, as ``ClientAddress`` (``hiraga.net.client_address``) decided."""
    return request.client.host if request.client else UNKNOWN


def db_session(request: Request) -> Iterator[Session]:
    with app_context(request).database.session() as session:
        yield session


# scope="function": commit before the response is sent, so a client that saw success (and then
# asks another process) always finds the data; a failed commit becomes an error response.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def optional_principal(request: Request, db: DbSession) -> Principal | None:
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal = authenticate.authenticate(
        db,
        authorization=request.headers.get("authorization"),
        session_token=request.cookies.get(SESSION_COOKIE),
        client_address=client_address(request),
    )
    request.state.principal = principal
    _choose_language(request, principal)
    return principal


def require_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def access_scope(principal: CurrentPrincipal) -> AccessScope:
    return AccessScope(principal)


Scope = Annotated[AccessScope, Depends(access_scope)]


# Admin routes take one of these instead of Scope: the role is checked as a dependency, which FastAPI
# resolves before it validates the body, so a caller without the role gets 403 whatever they sent
# (not a 400 that tells them how to shape a request they may not make).
def system_admin_scope(scope: Scope) -> AccessScope:
    scope.require_system_admin()
    return scope


def team_admin_scope(scope: Scope) -> AccessScope:
    """Team admins (of some team; which one the body names, checked by the service) and system admins."""
    scope.require_admin_of_any_team()
    return scope


SystemAdminScope = Annotated[AccessScope, Depends(system_admin_scope)]
TeamAdminScope = Annotated[AccessScope, Depends(team_admin_scope)]


async def csrf_guard(request: Request) -> None:
    """Applied to every router: unsafe requests without an API key must come from this site (Origin,
    when the browser sends it) and carry the CSRF token."""
    if csrf.needs_check(request):
        settings = app_context(request).settings
        csrf.check_origin(request, settings.base_url)
        await csrf.verify(request, settings.secret())


def _choose_language(request: Request, principal: Principal | None) -> None:
    lang = i18n.negotiate(
        chosen=request.query_params.get("lang") or request.cookies.get(LANG_COOKIE),
        user_locale=principal.locale if principal else None,
        accept_language=request.headers.get("accept-language"),
        default=app_context(request).settings.default_locale,
    )
    request.state.lang = lang
    request.state.translate = i18n.translator(lang)
