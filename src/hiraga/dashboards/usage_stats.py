"""Requests, tokens and cost (JPY) by team, user, model, app and day, within what the caller may
see: auditors and system administrators everything, team administrators their teams."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from hiraga.dashboards.period import Period
from hiraga.errors import Forbidden
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import Team, UsageRecord, User

Dimension = Literal["team", "user", "model", "app", "day"]
DIMENSIONS: tuple[Dimension, ...] = ("team", "user", "model", "app", "day")


@dataclass(frozen=True, slots=True)
class UsageRow:
    key: str
    label: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_jpy: Decimal

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def require_viewer(scope: AccessScope) -> None:
    p = scope.principal
    if not (p.is_auditor or p.is_system_admin or p.is_team_admin):
        raise Forbidden("ダッシュボードは監査担当者・システム管理者・チーム管理者のみが閲覧できます。")


def visible_usage(scope: AccessScope) -> ColumnElement[bool]:
    require_viewer(scope)
    p = scope.principal
    return true() if p.is_auditor or p.is_system_admin else scope.admin_team_filter(UsageRecord.team_id)


def jst_day(session: Session) -> Any:
    """The calendar day (Japan time) of a usage record, as ``YYYY-MM-DD`` text, in SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d", UsageRecord.created_at, "+9 hours")
    return func.to_char(func.timezone("Asia/Tokyo", UsageRecord.created_at), "YYYY-MM-DD")


def _key(session: Session, dimension: Dimension) -> Any:
    return {
        "team": UsageRecord.team_id,
        "user": UsageRecord.user_id,
        "model": UsageRecord.model,
        "app": UsageRecord.source,
        "day": jst_day(session),
    }[dimension]


def names_of(session: Session, id_column: Any, name_column: Any, ids: list[int] | None = None) -> dict[int, str]:
    """Names by id (of teams, organisations, users, keys); all of them when ``ids`` is None."""
    query = select(id_column, name_column)
    if ids is not None:
        query = query.where(id_column.in_(ids))
    return {int(i): str(n) for i, n in session.execute(query)}


def _labels(session: Session, dimension: Dimension, keys: list[Any]) -> dict[str, str]:
    ids = [k for k in keys if k is not None]
    if dimension == "team" and ids:
        return {str(i): n for i, n in names_of(session, Team.id, Team.name, ids).items()}
    if dimension == "user" and ids:
        rows = session.execute(select(User.id, User.display_name, User.email).where(User.id.in_(ids)))
        return {str(i): name or email for i, name, email in rows}
    return {}


def usage_by(
    session: Session, scope: AccessScope, period: Period, dimension: Dimension, team_id: int | None = None
) -> list[UsageRow]:
    """One row per team/user/model/app/day; the biggest cost first (days in calendar order)."""
    key = _key(session, dimension)
    where = [visible_usage(scope), UsageRecord.created_at >= period.since, UsageRecord.created_at < period.until]
    if team_id is not None:
        where.append(UsageRecord.team_id == team_id)
    query = select(
        key,
        func.count(UsageRecord.id),
        func.coalesce(func.sum(UsageRecord.input_tokens), 0),
        func.coalesce(func.sum(UsageRecord.output_tokens), 0),
        func.coalesce(func.sum(UsageRecord.cost_jpy), 0),
    )
    found = list(session.execute(query.where(*where).group_by(key)))
    labels = _labels(session, dimension, [r[0] for r in found])
    rows = [
        UsageRow(
            key="" if r[0] is None else str(r[0]),
            label=labels.get(str(r[0]), "（なし）" if r[0] is None else str(r[0])),
            requests=int(r[1]),
            input_tokens=int(r[2]),
            output_tokens=int(r[3]),
            cost_jpy=Decimal(str(r[4])).quantize(Decimal("0.000001")),
        )
        for r in found
    ]
    if dimension == "day":
        return sorted(rows, key=lambda r: r.key)
    return sorted(rows, key=lambda r: (-r.cost_jpy, -r.requests, r.key))


def top_apps(rows: list[UsageRow], limit: int = 10) -> list[UsageRow]:
    """Of usage by app: the task apps (``app:<name>``) most used."""
    apps = [r for r in rows if r.key.startswith("app:")]
    return sorted(apps, key=lambda r: (-r.requests, r.key))[:limit]


def totals(rows: list[UsageRow]) -> UsageRow:
    return UsageRow(
        key="total",
        label="合計",
        requests=sum(r.requests for r in rows),
        input_tokens=sum(r.input_tokens for r in rows),
        output_tokens=sum(r.output_tokens for r in rows),
        cost_jpy=sum((r.cost_jpy for r in rows), Decimal("0.000000")),
    )
