"""/api/v1/audit: the audit log for auditors, system administrators and (their teams') team
administrators. Read-only: there is no route that changes or deletes a record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import StreamingResponse

from hiraga.audit import export, keys, query, service
from hiraga.audit.protocol import AuditEntry, VerifyResult
from hiraga.bounds import DbInt, RowId
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import DbSession, Scope, app_context

router = APIRouter(prefix="/api/v1/audit", tags=["監査ログ"], responses=ERROR_RESPONSES)


def audit_filter(
    since: datetime | None = None,
    until: datetime | None = None,
    user_id: RowId | None = None,
    team_id: RowId | None = None,
    model: str | None = None,
    app: str | None = None,
    classification: DbInt | None = None,
    outcome: str | None = None,
    action: str | None = None,
) -> query.AuditFilter:
    return query.AuditFilter(since, until, user_id, team_id, model, app, classification, outcome, action)


Filter = Annotated[query.AuditFilter, Depends(audit_filter)]


@router.get("", summary="監査記録（新しい順、before_id で次のページ）")
def list_audit(
    db: DbSession, scope: Scope, wanted: Filter, limit: DbInt = 100, before_id: RowId | None = None
) -> list[AuditEntry]:
    return [AuditEntry.model_validate(r) for r in query.list_records(db, scope, wanted, limit, before_id)]


@router.get("/export", summary="監査記録の書き出し（CSV または JSON Lines、ストリーミング）")
def export_audit(request: Request, scope: Scope, wanted: Filter, format: export.Format = "csv") -> StreamingResponse:
    engine = app_context(request).database.engine
    body = service.export_lines(engine, scope, wanted, format)
    name = service.export_filename(format, datetime.now(UTC))
    return StreamingResponse(
        body, media_type=export.MEDIA_TYPES[format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/verify", summary="チェーンの検証（改ざん・挿入・削除の検出）")
def verify_audit(request: Request, scope: Scope) -> VerifyResult:
    ctx = app_context(request)
    return service.verify(ctx.database.engine, scope, keys.keys_for(ctx.settings), ctx.settings.audit_anchor_file)
