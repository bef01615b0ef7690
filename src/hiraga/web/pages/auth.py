"""Login, logout and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hiraga import i18n
from hiraga.errors import HiragaError
from hiraga.identity.login import authenticate_password
from hiraga.identity.sso import local_login
from hiraga.identity.sso import logout as sso_logout
from hiraga.identity.sso import providers as sso_providers
from hiraga.identity.web_sessions import end_session, start_session
from hiraga.web.deps import SESSION_COOKIE, DbSession, MaybePrincipal, app_context, client_address
from hiraga.web.pages.rendering import (
    PageRoute,
    clear_session_cookie,
    local_path,
    redirect,
    render,
    render_failure,
    set_language_cookie,
    set_session_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/login")
def login_form(
    request: Request, db: DbSession, principal: MaybePrincipal, next: str = "/", notice: str = ""
) -> Response:
    if principal is not None:
        return redirect(request, local_path(next))
    context = {"next": local_path(next), "email": "", "request_notice": notice}
    return render(request, "login.html", context | _sign_in_options(request, db))


def _sign_in_options(request: Request, db: DbSession) -> dict[str, object]:
    """The single sign-on buttons, and whether password login is open to everyone."""
    return {
        "sso_providers": sso_providers.list_providers(db, enabled_only=True),
        "password_login_open": local_login.password_login_open(app_context(request).settings),
    }


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    principal: MaybePrincipal,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = app_context(request).settings
    try:
        local_login.check_password_login(db, settings, email, client_address(request))
        user = authenticate_password(
            db,
            email,
            password,
            client_address(request),
            max_failures=settings.login_max_failures,
            window_minutes=settings.login_window_minutes,
            lockout_minutes=settings.login_lockout_minutes,
        )
    except HiragaError as error:
        context = {"next": local_path(next), "email": email[:320]}
        return render_failure(request, db, "login.html", error, lambda: context | _sign_in_options(request, db))
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        end_session(db, previous)
    token = start_session(db, user.id, settings.session_ttl_hours)
    response = redirect(request, local_path(next))
    set_session_cookie(response, token, settings)
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, principal: MaybePrincipal) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    target = None
    if token:
        target = sso_logout.sign_out(db, app_context(request).settings, token, principal)  # audited
        end_session(db, token)
    if target is None:
        response = redirect(request, sso_logout.LOGGED_OUT_PATH)
    else:  # a page that moves on to the provider: CSP form-action forbids redirecting a form post off-site
        request.state.principal = None
        response = render(request, "sso_logout.html", {"provider_logout_url": target})
    clear_session_cookie(response, app_context(request).settings)
    return response


@router.get("/language")
def choose_language(request: Request, to: str, next: str = "/") -> Response:
    """Works as a plain link: sets the language cookie and goes back to the page."""
    response = redirect(request, local_path(next))
    if to in i18n.SUPPORTED:
        set_language_cookie(response, to, app_context(request).settings)
    return response
