"""Single sign-on pages: start a provider's sign-in, and its callback. Thin: ``identity.sso.signin``
does the work; a failure is the Japanese error page with the reason's code (and an audit record)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from hiraga.identity import tokens
from hiraga.identity.sso import signin
from hiraga.identity.sso.errors import SsoFailed
from hiraga.identity.web_sessions import end_session
from hiraga.web.deps import SESSION_COOKIE, DbSession, app_context, client_address
from hiraga.web.pages.rendering import PageRoute, local_path, redirect, render, set_session_cookie

router = APIRouter(route_class=PageRoute, include_in_schema=False)

BROWSER_COOKIE = "hiraga_sso"
BROWSER_COOKIE_PATH = "/auth/sso/"


@router.get("/auth/sso/{slug}/login")
def start(request: Request, db: DbSession, slug: str, next: str = "/") -> Response:
    settings = app_context(request).settings
    browser_token = tokens.new_token()
    try:
        url = signin.begin(
            db,
            settings,
            slug[:40],
            browser_token=browser_token,
            next_path=local_path(next),
            client_ip=client_address(request),
        )
    except SsoFailed as failure:
        return _failure_page(request, failure)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        BROWSER_COOKIE,
        browser_token,
        max_age=int(signin.STATE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
        secure=settings.secure_cookies,
        path=BROWSER_COOKIE_PATH,
    )
    return response


@router.get("/auth/sso/{slug}/callback")
def callback(request: Request, db: DbSession, slug: str) -> Response:
    settings = app_context(request).settings
    params = {k: v[:4000] for k, v in request.query_params.items() if k in ("state", "code", "error")}
    try:
        result = signin.complete(
            db,
            settings,
            slug[:40],
            params=params,
            browser_token=request.cookies.get(BROWSER_COOKIE),
            client_ip=client_address(request),
            session_ttl_hours=settings.session_ttl_hours,
        )
    except SsoFailed as failure:
        response: Response = _failure_page(request, failure)
    else:
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            end_session(db, previous)
        response = redirect(request, local_path(result.next_path))
        set_session_cookie(response, result.session_token, settings)
    response.delete_cookie(BROWSER_COOKIE, path=BROWSER_COOKIE_PATH, httponly=True, samesite="lax")
    return response


def _failure_page(request: Request, failure: SsoFailed) -> Response:
    return render(request, "sso_error.html", {"error": failure}, status=failure.status)
