"""First run: the one-time setup URL creates the first system admin (and, optionally, the
organisation), then logs them in. The token works once; after that the page refuses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hiraga.errors import HiragaError
from hiraga.identity.account import create_first_admin
from hiraga.identity.setup import check_setup_token, consume_setup_token
from hiraga.identity.web_sessions import start_session
from hiraga.web.deps import DbSession, MaybePrincipal, app_context
from hiraga.web.pages.rendering import PageRoute, redirect, render, render_failure, set_session_cookie

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Creating the very first account needs the rights no user holds yet; the setup token stands in.


@router.get("/setup")
def setup_form(request: Request, db: DbSession, principal: MaybePrincipal, token: str = "") -> Response:
    check_setup_token(db, token)
    return render(request, "setup.html", {"token": token, "form": {}})


@router.post("/setup")
def setup(
    request: Request,
    db: DbSession,
    principal: MaybePrincipal,
    token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
) -> Response:
    check_setup_token(db, token)
    settings = app_context(request).settings
    try:
        user = create_first_admin(
            db,
            email=email,
            display_name=display_name,
            password=password,
            password_confirm=password_confirm,
            organisation=organisation,
            team=team,
            password_min_length=settings.password_min_length,
        )
    except HiragaError as error:
        form = {"email": email, "display_name": display_name, "organisation": organisation, "team": team}
        return render_failure(request, db, "setup.html", error, lambda: {"token": token, "form": form})
    consume_setup_token(db)
    session_token = start_session(db, user.id, settings.session_ttl_hours)
    response = redirect(request, "/welcome?notice=setup_done")
    set_session_cookie(response, session_token, settings)
    return response
