"""How pages answer: a template rendered with the translator, language, principal and CSRF token;
the cookies pages set; redirects (303, or ``HX-Redirect`` for HTMX); and login-required pages that
send the browser to ``/login?next=...`` instead of answering 401."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hiraga import i18n
from hiraga.errors import HiragaError, NotAuthenticated
from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.web import csrf
from hiraga.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    MaybePrincipal,
    app_context,
    system_admin_scope,
    team_admin_scope,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


class LoginRequired(NotAuthenticated):
    code = "login_required"


# -- rendering -------------------------------------------------------------------------------------
def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    ctx = app_context(request)
    _ensure_language(request)
    values: dict[str, Any] = {
        "_": request.state.translate,
        "lang": request.state.lang,
        "principal": getattr(request.state, "principal", None),
        "csrf_token": csrf.token_for(ctx.settings.secret(), csrf.nonce_for(request)),
        "current_path": _current_path(request),
        "when": format_when,
        **(context or {}),
    }
    html = ctx.templates.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce:
        response.set_cookie(
            csrf.COOKIE, nonce, httponly=True, samesite="strict", path="/", secure=ctx.settings.secure_cookies
        )
    return response


def render_failure(
    request: Request,
    db: Session,
    template: str,
    error: HiragaError,
    context: Callable[[], Mapping[str, Any]],
) -> HTMLResponse:
    """A form that failed: nothing it did is kept, and the page comes back with the error."""
    db.rollback()
    return render(request, template, {**context(), "error": error}, status=error.status, headers=error.headers)


FORM_ERROR_STATUSES = frozenset({400, 404, 409})


def form_answer(
    request: Request,
    db: Session,
    action: Callable[[], object],
    *,
    success: Callable[[], Response],
    template: str,
    context: Callable[[], Mapping[str, Any]],
) -> Response:
    """Run one form's write: bad input (400/404/409) shows the page again with the error and keeps
    nothing; other errors (403, ...) go to the error mapper; success answers with ``success()``."""
    try:
        action()
    except HiragaError as error:
        if error.status not in FORM_ERROR_STATUSES:
            raise
        return render_failure(request, db, template, error, context)
    return success()


def commit_and_redirect(
    request: Request, db: Session, url: str, after_commit: Callable[[], object] | None = None
) -> Response:
    """Keep a write (the next page, in any process, finds it), run ``after_commit`` (drop a cache that
    holds what was written) and go to ``url`` (post/redirect/get)."""
    db.commit()
    if after_commit is not None:
        after_commit()
    return redirect(request, url)


def form_redirect(
    request: Request,
    db: Session,
    action: Callable[[], object],
    *,
    then: str,
    template: str,
    context: Callable[[], Mapping[str, Any]],
    after_commit: Callable[[], object] | None = None,
) -> Response:
    """``form_answer`` for the usual write: success commits and redirects to ``then`` (a page with its
    notice); bad input shows ``template`` again with the error."""
    return form_answer(
        request,
        db,
        action,
        success=lambda: commit_and_redirect(request, db, then, after_commit),
        template=template,
        context=context,
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def format_when(moment: datetime | None) -> str:
    """Dates as staff read them: Japan time, minutes precision."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return aware.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M JST")
    except ZoneInfoNotFoundError:
        return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ensure_language(request: Request) -> None:
    if hasattr(request.state, "translate"):
        return
    lang = i18n.negotiate(
        chosen=request.query_params.get("lang") or request.cookies.get(LANG_COOKIE),
        user_locale=None,
        accept_language=request.headers.get("accept-language"),
        default=app_context(request).settings.default_locale,
    )
    request.state.lang = lang
    request.state.translate = i18n.translator(lang)


def _current_path(request: Request) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "notice", "token")]
    return request.url.path + ("?" + urlencode(query) if query else "")


# -- redirects -------------------------------------------------------------------------------------
def redirect(request: Request, url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def local_path(candidate: str | None, default: str = "/") -> str:
    """``candidate`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in candidate) or len(candidate) > 2000:
        return default
    parts = urlsplit(candidate)
    return candidate if not parts.scheme and not parts.netloc else default


def login_url(request: Request) -> str:
    """Where to log in, coming back here afterwards (after a form post: back to the page, if known)."""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = urlsplit(request.headers.get("hx-current-url", "")).path or "/"
    return "/login?" + urlencode({"next": local_path(target)})


# -- cookies ---------------------------------------------------------------------------------------
def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")


def set_language_cookie(response: Response, lang: str, settings: Settings) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


# -- login-required pages --------------------------------------------------------------------------
def page_principal(principal: MaybePrincipal) -> Principal:
    if principal is None:
        raise LoginRequired()
    return principal


def page_scope(principal: Annotated[Principal, Depends(page_principal)]) -> AccessScope:
    return AccessScope(principal)


PagePrincipal = Annotated[Principal, Depends(page_principal)]
PageScope = Annotated[AccessScope, Depends(page_scope)]


def system_admin_page_scope(scope: PageScope) -> AccessScope:
    """Admin forms check the role before the form is validated (as ``deps.SystemAdminScope``)."""
    return system_admin_scope(scope)


def team_admin_page_scope(scope: PageScope) -> AccessScope:
    return team_admin_scope(scope)


SystemAdminPageScope = Annotated[AccessScope, Depends(system_admin_page_scope)]
TeamAdminPageScope = Annotated[AccessScope, Depends(team_admin_page_scope)]


class PageRoute(APIRoute):
    """Page routes send anonymous visitors to the login page rather than answering 401."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequired:
                return redirect(request, login_url(request))

        return handle_page
