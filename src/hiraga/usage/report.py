"""Reading usage back: single records and sums, for auditors and administrators.

Auditors and system administrators see every team; team administrators see their own teams'
usage; anyone else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from hiraga.errors import Forbidden, InvalidInput
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import UsageRecord

GroupBy = Literal["team", "user", "model", "endpoint"]
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class UsageFilter:
    since: datetime | None = None
    until: datetime | None = None
    team_id: int | None = None
    user_id: int | None = None
    model: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class UsageTotal:
    key: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_jpy: Decimal


def _visible(scope: AccessScope) -> ColumnElement[bool]:
    p = scope.principal
    if p.is_auditor or p.is_system_admin:
        return true()
    if not p.is_team_admin:
        raise Forbidden("利用状況は監査担当者・システム管理者・チーム管理者のみが閲覧できます。")
    return scope.admin_team_filter(UsageRecord.team_id)


def _narrowed(query: Select[Any], scope: AccessScope, wanted: UsageFilter) -> Select[Any]:
    if wanted.since and wanted.until and wanted.since > wanted.until:
        raise InvalidInput("期間の開始が終了より後になっています。", detail={"field": "since"})
    conditions = [_visible(scope)]
    if wanted.since:
        conditions.append(UsageRecord.created_at >= wanted.since)
    if wanted.until:
        conditions.append(UsageRecord.created_at < wanted.until)
    for column, value in (
        (UsageRecord.team_id, wanted.team_id),
        (UsageRecord.user_id, wanted.user_id),
        (UsageRecord.model, wanted.model),
        (UsageRecord.outcome, wanted.outcome),
    ):
        if value is not None:
            conditions.append(column == value)
    return query.where(*conditions)


def list_usage(
    session: Session, scope: AccessScope, wanted: UsageFilter, limit: int = 100, offset: int = 0
) -> list[UsageRecord]:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"件数は 1〜{MAX_PAGE} 件で指定してください。", detail={"field": "limit"})
    query = _narrowed(select(UsageRecord), scope, wanted)
    query = query.order_by(UsageRecord.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


GROUP_COLUMNS: dict[str, Any] = {
    "team": UsageRecord.team_id,
    "user": UsageRecord.user_id,
    "model": UsageRecord.model,
    "endpoint": UsageRecord.endpoint_name,
}


def summarise_usage(session: Session, scope: AccessScope, wanted: UsageFilter, group_by: GroupBy) -> list[UsageTotal]:
    key = GROUP_COLUMNS[group_by]
    query = select(
        key,
        func.count(UsageRecord.id),
        func.coalesce(func.sum(UsageRecord.input_tokens), 0),
        func.coalesce(func.sum(UsageRecord.output_tokens), 0),
        func.coalesce(func.sum(UsageRecord.cost_jpy), 0),
    ).group_by(key)
    rows = session.execute(_narrowed(query, scope, wanted).order_by(key))
    return [
        UsageTotal(
            key="" if row[0] is None else str(row[0]),
            requests=int(row[1]),
            input_tokens=int(row[2]),
            output_tokens=int(row[3]),
            cost_jpy=Decimal(str(row[4])),
        )
        for row in rows
    ]
