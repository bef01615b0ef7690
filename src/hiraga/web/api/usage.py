"""/api/v1/usage: per-call usage and totals, for auditors and administrators (scoped)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from hiraga.bounds import DbInt, RowId
from hiraga.usage import protocol, report
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import DbSession, Scope

router = APIRouter(prefix="/api/v1/usage", tags=["利用状況"], responses=ERROR_RESPONSES)


@router.get("", summary="呼び出しごとの利用記録（新しい順）")
def list_usage(
    db: DbSession,
    scope: Scope,
    since: datetime | None = None,
    until: datetime | None = None,
    team_id: RowId | None = None,
    user_id: RowId | None = None,
    model: str | None = None,
    outcome: str | None = None,
    limit: DbInt = 100,
    offset: DbInt = 0,
) -> list[protocol.UsageEntry]:
    wanted = report.UsageFilter(since, until, team_id, user_id, model, outcome)
    rows = report.list_usage(db, scope, wanted, limit, offset)
    return [protocol.UsageEntry.model_validate(row) for row in rows]


@router.get("/totals", summary="利用量・費用の集計")
def usage_totals(
    db: DbSession,
    scope: Scope,
    group_by: report.GroupBy = "team",
    since: datetime | None = None,
    until: datetime | None = None,
    team_id: RowId | None = None,
    model: str | None = None,
) -> list[protocol.UsageTotal]:
    wanted = report.UsageFilter(since, until, team_id, None, model)
    return [protocol.UsageTotal.model_validate(t) for t in report.summarise_usage(db, scope, wanted, group_by)]
