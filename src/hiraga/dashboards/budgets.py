"""Budget consumption: each day/month limit beside what its subject used in the current window,
counted from the usage records (so it reads the same whether counters live in the database or
in Redis)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hiraga.dashboards.usage_stats import names_of, require_viewer
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import ApiKey, LimitDefinition, Team, UsageRecord, User
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage.windows import JST

SUBJECT_COLUMNS: dict[LimitScope, Any] = {
    LimitScope.TEAM: UsageRecord.team_id,
    LimitScope.USER: UsageRecord.user_id,
    LimitScope.KEY: UsageRecord.api_key_id,
}


@dataclass(frozen=True, slots=True)
class BudgetUse:
    limit_id: int
    scope: LimitScope
    subject: str
    metric: LimitMetric
    window: LimitWindow
    amount: Decimal
    used: Decimal

    @property
    def percent(self) -> Decimal:
        if not self.amount:
            return Decimal("100.0") if self.used else Decimal("0.0")
        return (self.used * 100 / self.amount).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def window_start(window: LimitWindow, now: datetime) -> datetime:
    local = now.astimezone(JST)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.replace(day=1) if window is LimitWindow.MONTH else start


def _used(session: Session, limit: LimitDefinition, now: datetime) -> Decimal:
    measure: Any = {
        LimitMetric.REQUESTS: func.count(UsageRecord.id),
        LimitMetric.TOKENS: func.coalesce(func.sum(UsageRecord.input_tokens + UsageRecord.output_tokens), 0),
        LimitMetric.COST_JPY: func.coalesce(func.sum(UsageRecord.cost_jpy), 0),
    }[limit.metric]
    value = session.execute(
        select(measure).where(
            SUBJECT_COLUMNS[limit.scope] == limit.subject_id,
            UsageRecord.created_at >= window_start(limit.window, now),
            UsageRecord.created_at <= now,
        )
    ).scalar()
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _names(session: Session) -> dict[LimitScope, dict[int, str]]:
    return {
        LimitScope.TEAM: names_of(session, Team.id, Team.name),
        LimitScope.USER: names_of(session, User.id, User.display_name),
        LimitScope.KEY: names_of(session, ApiKey.id, ApiKey.name),
    }


def budget_use(session: Session, scope: AccessScope, now: datetime) -> list[BudgetUse]:
    """Day and month limits the caller may see (team admins: their teams' limits)."""
    require_viewer(scope)
    p = scope.principal
    query = select(LimitDefinition).where(LimitDefinition.window != LimitWindow.MINUTE)
    if not (p.is_auditor or p.is_system_admin):
        query = query.where(
            LimitDefinition.scope == LimitScope.TEAM, scope.admin_team_filter(LimitDefinition.subject_id)
        )
    limits = list(session.scalars(query.order_by(LimitDefinition.id)))
    names = _names(session) if limits else {}
    return [
        BudgetUse(
            limit_id=limit.id,
            scope=limit.scope,
            subject=names[limit.scope].get(limit.subject_id) or str(limit.subject_id),
            metric=limit.metric,
            window=limit.window,
            amount=limit.amount,
            used=_used(session, limit, now),
        )
        for limit in limits
    ]
