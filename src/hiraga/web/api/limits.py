"""/api/v1/limits: budgets, quotas and rate limits (system admins: all; team admins: their teams)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hiraga.bounds import RowId
from hiraga.usage import limits, protocol
from hiraga.usage.hooks import installed_hooks
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import DbSession, Scope, TeamAdminScope, app_context

router = APIRouter(prefix="/api/v1/limits", tags=["上限"], responses=ERROR_RESPONSES)


def _changed(request: Request) -> None:
    hooks = installed_hooks(app_context(request).extras)
    if hooks is not None:
        hooks.limits_changed()


@router.get("", summary="上限の一覧")
def list_limits(db: DbSession, scope: Scope) -> list[protocol.Limit]:
    return [protocol.Limit.model_validate(row) for row in limits.visible_limits(db, scope)]


@router.post("", status_code=201, summary="上限の作成")
def create_limit(body: protocol.LimitCreate, request: Request, db: DbSession, scope: TeamAdminScope) -> protocol.Limit:
    spec = limits.LimitSpec(body.scope, body.subject_id, body.metric, body.window, body.amount)
    row = limits.create_limit(db, scope, spec)
    db.commit()
    _changed(request)
    return protocol.Limit.model_validate(row)


@router.patch("/{limit_id}", summary="上限値の変更")
def change_limit(
    limit_id: RowId, body: protocol.LimitUpdate, request: Request, db: DbSession, scope: Scope
) -> protocol.Limit:
    row = limits.change_limit(db, scope, limit_id, body.amount)
    db.commit()
    _changed(request)
    return protocol.Limit.model_validate(row)


@router.delete("/{limit_id}", status_code=204, response_class=Response, summary="上限の削除")
def delete_limit(limit_id: RowId, request: Request, db: DbSession, scope: Scope) -> None:
    limits.remove_limit(db, scope, limit_id)
    db.commit()
    _changed(request)
