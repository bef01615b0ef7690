"""The user's own account: change password (ending other sessions) and personal API keys.
API key forms answer HTMX with the keys section and plain browsers with the whole page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.identity import api_keys
from hiraga.identity.account import change_password
from hiraga.identity.web_sessions import start_session
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import (
    PagePrincipal,
    PageRoute,
    is_htmx,
    redirect,
    render,
    render_failure,
    set_session_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


def account_context(request: Request, db: Session, user_id: RowId, **extra: Any) -> dict[str, Any]:
    keys = api_keys.list_keys(db, user_id)
    return {
        "keys": [(key, api_keys.key_state(key)) for key in keys],
        "default_expiry_days": app_context(request).settings.api_key_default_expiry_days,
        "max_expiry_days": api_keys.MAX_EXPIRY_DAYS,
        **extra,
    }


def keys_response(request: Request, db: Session, user_id: RowId, status: int = 200, **extra: Any) -> Response:
    template = "_api_keys.html" if is_htmx(request) else "account.html"
    return render(request, template, account_context(request, db, user_id, **extra), status=status, headers=NO_STORE)


@router.get("/account")
def account(request: Request, db: DbSession, principal: PagePrincipal, notice: str = "") -> Response:
    return keys_response(request, db, principal.user_id, notice=notice)


@router.post("/account/password")
def change_password_page(
    request: Request,
    db: DbSession,
    principal: PagePrincipal,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_confirm: Annotated[str, Form()] = "",
) -> Response:
    settings = app_context(request).settings
    try:
        change_password(
            db,
            principal.user_id,
            current_password,
            new_password,
            new_password_confirm,
            min_length=settings.password_min_length,
        )
    except HiragaError as error:
        failure = error
        context = lambda: account_context(request, db, principal.user_id, password_error=failure)  # noqa: E731
        return render_failure(request, db, "account.html", failure, context)
    token = start_session(db, principal.user_id, settings.session_ttl_hours)
    response = redirect(request, "/account?notice=password_changed")
    set_session_cookie(response, token, settings)
    return response


@router.post("/account/keys")
def create_key(
    request: Request,
    db: DbSession,
    principal: PagePrincipal,
    name: Annotated[str, Form()] = "",
    expires_days: Annotated[str, Form()] = "",
) -> Response:
    try:
        days = parse_days(expires_days, app_context(request).settings.api_key_default_expiry_days)
        issued = api_keys.issue_key(db, principal, principal.user_id, name, days)
    except HiragaError as error:
        db.rollback()
        return keys_response(request, db, principal.user_id, status=error.status, key_error=error, key_name=name)
    return keys_response(request, db, principal.user_id, status=201, new_key=issued)


def parse_days(value: str, default: int) -> int:
    text = value.strip()
    if not text:
        return default
    if not text.isdigit():
        raise InvalidInput("有効期限は日数（整数）で入力してください。", detail={"field": "expires_days"})
    return int(text)


@router.post("/account/keys/{key_id}/revoke")
def revoke_key(request: Request, db: DbSession, principal: PagePrincipal, key_id: RowId) -> Response:
    api_keys.revoke_key(db, principal, principal.user_id, key_id)
    if is_htmx(request):
        return keys_response(request, db, principal.user_id, notice="key_revoked")
    return redirect(request, "/account?notice=key_revoked#api-keys")
