"""Classification decisions for the monthly report: how many calls of each 機密性 level were
answered, refused or failed, and the reasons for refusals — from the audit records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hiraga.audit.chain import AUDIT
from hiraga.audit.query import visible
from hiraga.dashboards.period import Period
from hiraga.spine.authorize import AccessScope


@dataclass(frozen=True, slots=True)
class DecisionCount:
    classification: int | None
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class RefusalReason:
    error_code: str
    count: int


def _in_period(period: Period) -> list[ColumnElement[bool]]:
    return [AUDIT.c.occurred_at >= period.since, AUDIT.c.occurred_at < period.until]


def decisions(session: Session, scope: AccessScope, period: Period) -> list[DecisionCount]:
    query = (
        select(AUDIT.c.classification, AUDIT.c.outcome, func.count())
        .where(visible(scope), *_in_period(period))
        .group_by(AUDIT.c.classification, AUDIT.c.outcome)
    )
    rows = [DecisionCount(c, str(o), int(n)) for c, o, n in session.execute(query)]
    return sorted(rows, key=lambda r: (r.classification or 0, r.outcome))


def refusal_reasons(session: Session, scope: AccessScope, period: Period) -> list[RefusalReason]:
    query = (
        select(AUDIT.c.error_code, func.count())
        .where(visible(scope), AUDIT.c.outcome == "refused", *_in_period(period))
        .group_by(AUDIT.c.error_code)
    )
    rows = [RefusalReason(str(code or "unknown"), int(n)) for code, n in session.execute(query)]
    return sorted(rows, key=lambda r: (-r.count, r.error_code))
