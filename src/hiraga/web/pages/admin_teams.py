"""One team's members and their roles, for the team's admins (and system admins). Membership
forms answer HTMX with the members section and plain browsers with a redirect (PRG)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import InvalidInput, NotFound
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import TeamRole
from hiraga.web.deps import DbSession
from hiraga.web.pages.forms import NewUser
from hiraga.web.pages.rendering import PageRoute, PageScope, form_answer, is_htmx, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
UNKNOWN_USER = "このメールアドレスのユーザーは見つからないか、このチームに追加できません。"


def team_context(db: Session, scope: AccessScope, team_id: RowId, **extra: Any) -> dict[str, Any]:
    scope.require_team_admin(team_id)
    return {
        "team": directory.get_team(db, scope, team_id),
        "members": directory.list_members(db, scope, team_id),
        "roles": list(TeamRole),
        "form": {},
        **extra,
    }


def members_answer(request: Request, db: Session, scope: AccessScope, team_id: RowId, notice: str) -> Response:
    if is_htmx(request):
        return render(request, "_team_members.html", team_context(db, scope, team_id, notice=notice))
    return redirect(request, f"/admin/teams/{team_id}?notice={notice}")


def _attempt(
    request: Request,
    db: Session,
    scope: AccessScope,
    team_id: RowId,
    action: Callable[[], object],
    notice: str,
    form: dict[str, str] | None = None,
) -> Response:
    scope.require_team_admin(team_id)  # another team's id is refused before anything else happens
    return form_answer(
        request,
        db,
        action,
        success=lambda: members_answer(request, db, scope, team_id, notice),
        template="_team_members.html" if is_htmx(request) else "admin_team.html",
        context=lambda: team_context(db, scope, team_id, form=form or {}),
    )


def parse_role(value: str) -> TeamRole:
    try:
        return TeamRole(value)
    except ValueError:
        raise InvalidInput("役割の指定が正しくありません。", detail={"field": "role"}) from None


@router.get("/admin/teams/{team_id}")
def team_page(request: Request, db: DbSession, scope: PageScope, team_id: RowId, notice: str = "") -> Response:
    return render(request, "admin_team.html", team_context(db, scope, team_id, notice=notice))


@router.post("/admin/teams/{team_id}/members")
def add_member(
    request: Request,
    db: DbSession,
    scope: PageScope,
    team_id: RowId,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "member",
) -> Response:
    def action() -> object:
        try:
            user = directory.find_user_by_email(db, email)
            return directory.set_membership(db, scope, team_id, user.id, parse_role(role))
        except NotFound:  # one answer for "no such user" and "not one you may add": no probing
            raise NotFound(UNKNOWN_USER, detail={"field": "email"}) from None

    return _attempt(request, db, scope, team_id, action, "member_added", {"email": email})


@router.post("/admin/teams/{team_id}/users")
def create_member(
    request: Request,
    db: DbSession,
    scope: PageScope,
    team_id: RowId,
    user: NewUser,
    role: Annotated[str, Form()] = "member",
) -> Response:
    """A new user, created straight into this team (how team admins bring in new staff)."""
    action = lambda: user.create(request, db, scope, team_id=team_id, team_role=parse_role(role))  # noqa: E731
    return _attempt(request, db, scope, team_id, action, "member_created", user.echo("new_"))


@router.post("/admin/teams/{team_id}/members/{user_id}")
def change_role(
    request: Request,
    db: DbSession,
    scope: PageScope,
    team_id: RowId,
    user_id: RowId,
    role: Annotated[str, Form()] = "",
) -> Response:
    action = lambda: directory.set_membership(db, scope, team_id, user_id, parse_role(role))  # noqa: E731
    return _attempt(request, db, scope, team_id, action, "role_saved")


@router.post("/admin/teams/{team_id}/members/{user_id}/remove")
def remove_member(request: Request, db: DbSession, scope: PageScope, team_id: RowId, user_id: RowId) -> Response:
    action = lambda: directory.remove_membership(db, scope, team_id, user_id)  # noqa: E731
    return _attempt(request, db, scope, team_id, action, "member_removed")
