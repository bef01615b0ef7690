"""/api/v1/users: accounts and their platform roles."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hiraga.bounds import RowId
from hiraga.identity import directory
from hiraga.web.api import schemas
from hiraga.web.deps import DbSession, Scope, SystemAdminScope, TeamAdminScope, app_context

router = APIRouter(prefix="/api/v1/users", tags=["ユーザー"], responses=schemas.ERROR_RESPONSES)


@router.get("", summary="ユーザーの一覧（見える範囲のみ）")
def list_users(db: DbSession, scope: Scope) -> list[schemas.User]:
    return [schemas.User.model_validate(u) for u in directory.list_users(db, scope)]


@router.post("", status_code=201, summary="ユーザーの作成（チーム管理者は自分のチームに）")
def create_user(request: Request, body: schemas.UserCreate, db: DbSession, scope: TeamAdminScope) -> schemas.User:
    user = directory.create_user(
        db,
        scope,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        is_system_admin=body.is_system_admin,
        is_auditor=body.is_auditor,
        password_min_length=app_context(request).settings.password_min_length,
        team_id=body.team_id,
        team_role=body.team_role,
    )
    return schemas.User.model_validate(user)


@router.get("/{user_id}", summary="ユーザーの取得")
def get_user(user_id: RowId, db: DbSession, scope: Scope) -> schemas.User:
    return schemas.User.model_validate(directory.get_user(db, scope, user_id))


@router.patch("/{user_id}", summary="システム管理者・監査担当者・有効/無効の変更（システム管理者）")
def update_user(user_id: RowId, body: schemas.UserUpdate, db: DbSession, scope: SystemAdminScope) -> schemas.User:
    user = directory.set_platform_roles(
        db,
        scope,
        user_id,
        is_system_admin=body.is_system_admin,
        is_auditor=body.is_auditor,
        is_active=body.is_active,
    )
    return schemas.User.model_validate(user)
