"""/api/v1/me: who the caller is, their teams and roles, and their personal API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hiraga.bounds import RowId
from hiraga.identity import api_keys, directory
from hiraga.identity.principal import Principal
from hiraga.store.tables import ApiKey
from hiraga.web.api import schemas
from hiraga.web.deps import CurrentPrincipal, DbSession, Scope, app_context

router = APIRouter(prefix="/api/v1/me", tags=["自分"], responses=schemas.ERROR_RESPONSES)


def role_names(principal: Principal) -> list[str]:
    flags = {
        "system_admin": principal.is_system_admin,
        "auditor": principal.is_auditor,
        "team_admin": principal.is_team_admin,
        "member": bool(principal.team_ids),
    }
    return [name for name, held in flags.items() if held]


def key_view(row: ApiKey) -> schemas.ApiKey:
    return schemas.ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        state=api_keys.key_state(row),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


@router.get("", summary="自分の情報・所属チーム・役割")
def who_am_i(db: DbSession, scope: Scope) -> schemas.Me:
    principal = scope.principal
    teams = [
        schemas.MyTeam(
            team_id=m.team_id,
            team_name=m.team.name,
            organisation_id=m.team.organisation_id,
            organisation_name=m.team.organisation.name,
            role=m.role,
        )
        for m in directory.memberships_of(db, principal.user_id)
    ]
    return schemas.Me(
        user=schemas.User.model_validate(directory.get_user(db, scope, principal.user_id)),
        authenticated_via=principal.via,
        api_key_id=principal.api_key_id,
        roles=role_names(principal),
        teams=teams,
    )


@router.get("/keys", summary="自分の API キーの一覧")
def list_keys(db: DbSession, principal: CurrentPrincipal) -> list[schemas.ApiKey]:
    return [key_view(row) for row in api_keys.list_keys(db, principal.user_id)]


@router.post("/keys", status_code=201, summary="API キーの発行（キー本体はこの応答でのみ表示）")
def create_key(
    request: Request, body: schemas.ApiKeyCreate, db: DbSession, principal: CurrentPrincipal
) -> schemas.IssuedApiKey:
    days = body.expires_days
    if days is None:
        days = app_context(request).settings.api_key_default_expiry_days
    issued = api_keys.issue_key(db, principal, principal.user_id, body.name, days)
    return schemas.IssuedApiKey(**key_view(issued.row).model_dump(), secret=issued.secret)


@router.delete("/keys/{key_id}", status_code=204, response_class=Response, summary="API キーの失効")
def revoke_key(key_id: RowId, db: DbSession, principal: CurrentPrincipal) -> None:
    api_keys.revoke_key(db, principal, principal.user_id, key_id)
