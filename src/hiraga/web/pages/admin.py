"""Administration: organisations, teams, users and platform roles (system admins), and the
teams a team admin administers. Every read and write goes through ``directory`` with the
caller's AccessScope; these handlers only translate forms and choose the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.web.deps import DbSession
from hiraga.web.pages.forms import NewUser
from hiraga.web.pages.rendering import (
    PageRoute,
    PageScope,
    SystemAdminPageScope,
    TeamAdminPageScope,
    form_redirect,
    render,
)

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
    """One directory write: bad input shows the admin page with the error, success redirects (PRG)."""
    return form_redirect(
        request,
        db,
        action,
        then=f"/admin?notice={notice}",
        template="admin.html",
        context=lambda: admin_context(db, scope, form=form or {}),
    )


@router.post("/admin/organisations")
def create_organisation(
    request: Request, db: DbSession, scope: SystemAdminPageScope, name: Annotated[str, Form()] = ""
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
    scope: SystemAdminPageScope,
    organisation_id: Annotated[RowId, Form()],
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
    scope: TeamAdminPageScope,
    user: NewUser,
    is_system_admin: Checkbox = "",
    is_auditor: Checkbox = "",
) -> Response:
    roles = {"is_system_admin": bool(is_system_admin), "is_auditor": bool(is_auditor)}
    action = lambda: user.create(request, db, scope, **roles)  # noqa: E731
    return _attempt(request, db, scope, action, "user_created", user.echo())


@router.post("/admin/users/{user_id}/roles")
def set_platform_roles(
    request: Request,
    db: DbSession,
    scope: SystemAdminPageScope,
    user_id: RowId,
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
