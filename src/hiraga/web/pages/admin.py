"""Administration: organisations, teams, users and platform roles (system admins), and the
teams a team admin administers. Every read and write goes through ``directory`` with the
caller's AccessScope; these handlers only translate forms and choose the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.errors import HiragaError
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PageRoute, PageScope, redirect, render, render_failure

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Checkbox = Annotated[str, Form()]


def admin_context(db: Session, scope: AccessScope, **extra: Any) -> dict[str, Any]:
    scope.require_admin_of_any_team()
    p = scope.principal
    teams = directory.list_teams(db, scope)
    context: dict[str, Any] = {
        "managed_teams": [t for t in teams if p.is_system_admin or t.id in p.admin_team_ids],
        "organisations": [],
        "users": [],
        "form": {},
        **extra,
    }
    if p.is_system_admin:
        context["organisations"] = directory.list_organisations(db, scope)
        context["users"] = directory.list_users(db, scope)
    return context


@router.get("/admin")
def admin_home(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "admin.html", admin_context(db, scope, notice=notice))


def _attempt(
    request: Request,
    db: Session,
    scope: AccessScope,
    action: Callable[[], object],
    notice: str,
    form: dict[str, str] | None = None,
) -> Response:
    """Run one directory write; on bad input show the admin page with the error, else PRG."""
    try:
        action()
    except HiragaError as error:
        if error.status not in (400, 404, 409):
            raise
        context = lambda: admin_context(db, scope, form=form or {})  # noqa: E731
        return render_failure(request, db, "admin.html", error, context)
    return redirect(request, f"/admin?notice={notice}")


@router.post("/admin/organisations")
def create_organisation(
    request: Request, db: DbSession, scope: PageScope, name: Annotated[str, Form()] = ""
) -> Response:
    return _attempt(
        request,
        db,
        scope,
        lambda: directory.create_organisation(db, scope, name),
        "organisation_created",
        {"organisation_name": name},
    )


@router.post("/admin/teams")
def create_team(
    request: Request,
    db: DbSession,
    scope: PageScope,
    organisation_id: Annotated[int, Form()],
    name: Annotated[str, Form()] = "",
) -> Response:
    return _attempt(
        request,
        db,
        scope,
        lambda: directory.create_team(db, scope, organisation_id, name),
        "team_created",
        {"team_name": name},
    )


@router.post("/admin/users")
def create_user(
    request: Request,
    db: DbSession,
    scope: PageScope,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    is_system_admin: Checkbox = "",
    is_auditor: Checkbox = "",
) -> Response:
    min_length = app_context(request).settings.password_min_length

    def action() -> object:
        return directory.create_user(
            db,
            scope,
            email=email,
            password=password,
            display_name=display_name,
            is_system_admin=bool(is_system_admin),
            is_auditor=bool(is_auditor),
            password_min_length=min_length,
        )

    return _attempt(request, db, scope, action, "user_created", {"email": email, "display_name": display_name})


@router.post("/admin/users/{user_id}/roles")
def set_platform_roles(
    request: Request,
    db: DbSession,
    scope: PageScope,
    user_id: int,
    is_system_admin: Checkbox = "",
    is_auditor: Checkbox = "",
    is_active: Checkbox = "",
) -> Response:
    def action() -> object:
        return directory.set_platform_roles(
            db,
            scope,
            user_id,
            is_system_admin=bool(is_system_admin),
            is_auditor=bool(is_auditor),
            is_active=bool(is_active),
        )

    return _attempt(request, db, scope, action, "roles_saved")
