"""/api/v1/teams: teams (課・室) and their members."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hiraga.bounds import RowId
from hiraga.identity import directory
from hiraga.store.tables import Membership
from hiraga.web.api import schemas
from hiraga.web.deps import DbSession, Scope, SystemAdminScope

router = APIRouter(prefix="/api/v1/teams", tags=["チーム"], responses=schemas.ERROR_RESPONSES)


def member_view(membership: Membership) -> schemas.Member:
    return schemas.Member(
        user_id=membership.user_id,
        team_id=membership.team_id,
        role=membership.role,
        email=membership.user.email,
        display_name=membership.user.display_name,
        created_at=membership.created_at,
    )


@router.get("", summary="チームの一覧（所属・管理するチームのみ）")
def list_teams(db: DbSession, scope: Scope) -> list[schemas.Team]:
    return [schemas.Team.model_validate(t) for t in directory.list_teams(db, scope)]


@router.post("", status_code=201, summary="チームの作成（システム管理者）")
def create_team(body: schemas.TeamCreate, db: DbSession, scope: SystemAdminScope) -> schemas.Team:
    return schemas.Team.model_validate(directory.create_team(db, scope, body.organisation_id, body.name))


@router.get("/{team_id}", summary="チームの取得")
def get_team(team_id: RowId, db: DbSession, scope: Scope) -> schemas.Team:
    return schemas.Team.model_validate(directory.get_team(db, scope, team_id))


@router.get("/{team_id}/members", summary="チームのメンバー一覧")
def list_members(team_id: RowId, db: DbSession, scope: Scope) -> list[schemas.Member]:
    return [member_view(m) for m in directory.list_members(db, scope, team_id)]


@router.put("/{team_id}/members/{user_id}", summary="メンバーの追加・役割の変更（チーム管理者）")
def put_member(
    team_id: RowId, user_id: RowId, body: schemas.MembershipUpdate, db: DbSession, scope: Scope
) -> schemas.Member:
    return member_view(directory.set_membership(db, scope, team_id, user_id, body.role))


@router.delete(
    "/{team_id}/members/{user_id}", status_code=204, response_class=Response, summary="メンバーの削除（チーム管理者）"
)
def delete_member(team_id: RowId, user_id: RowId, db: DbSession, scope: Scope) -> None:
    directory.remove_membership(db, scope, team_id, user_id)
