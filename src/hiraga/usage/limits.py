"""Limit definitions: create, list, change, remove (framework-free; callers pass a scope).

System administrators manage every limit; team administrators manage their own teams' limits.
Per-user and per-key limits are for system administrators only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput, NotFound
from hiraga.spine.authorize import AccessScope
from hiraga.spine.policy import LimitRule
from hiraga.store.tables import ApiKey, Team, User
from hiraga.store.tables.base import utcnow
from hiraga.store.tables.usage import LimitDefinition, LimitMetric, LimitScope, LimitWindow

MAX_AMOUNT = Decimal("1e12")
NAME_COLUMNS: dict[LimitScope, tuple[Any, Any]] = {
    LimitScope.USER: (User.id, User.display_name),
    LimitScope.TEAM: (Team.id, Team.name),
    LimitScope.KEY: (ApiKey.id, ApiKey.name),
}


@dataclass(frozen=True, slots=True)
class LimitSpec:
    scope: LimitScope
    subject_id: int
    metric: LimitMetric
    window: LimitWindow
    amount: Decimal


def _guard(scope: AccessScope, limit_scope: LimitScope, subject_id: int) -> None:
    if limit_scope is LimitScope.TEAM:
        scope.require_team_admin(subject_id)
    else:
        scope.require_system_admin()


def _check_amount(amount: Decimal) -> None:
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise InvalidInput("上限値は 0 以上の数値で指定してください。", detail={"field": "amount"})


def _check_subject(session: Session, limit_scope: LimitScope, subject_id: int) -> None:
    table = {LimitScope.USER: User, LimitScope.TEAM: Team, LimitScope.KEY: ApiKey}[limit_scope]
    if session.get(table, subject_id) is None:
        raise NotFound("上限を設定する対象が見つかりません。", detail={"field": "subject_id"})


def create_limit(session: Session, scope: AccessScope, spec: LimitSpec) -> LimitDefinition:
    _guard(scope, spec.scope, spec.subject_id)
    _check_amount(spec.amount)
    _check_subject(session, spec.scope, spec.subject_id)
    limit = LimitDefinition(
        scope=spec.scope,
        subject_id=spec.subject_id,
        metric=spec.metric,
        window=spec.window,
        amount=spec.amount,
        created_by=scope.principal.user_id,
    )
    session.add(limit)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict("同じ対象・種類・期間の上限が既にあります。変更してください。") from error
    _audit(session, scope, events.LIMIT_CREATED, limit)
    return limit


def _audit(session: Session, scope: AccessScope, action: str, limit: LimitDefinition, **extra: object) -> None:
    team_id = limit.subject_id if limit.scope is LimitScope.TEAM else None
    facts: dict[str, object] = {"limit_id": limit.id, "scope": limit.scope.value, "subject_id": limit.subject_id}
    facts |= {"metric": str(limit.metric), "window": str(limit.window), "amount": str(limit.amount), **extra}
    events.record(session, action, scope.principal, team_id=team_id, detail=facts)


def visible_limits(session: Session, scope: AccessScope) -> list[LimitDefinition]:
    query = select(LimitDefinition).order_by(LimitDefinition.id)
    if not scope.principal.is_system_admin:
        query = query.where(
            LimitDefinition.scope == LimitScope.TEAM, scope.admin_team_filter(LimitDefinition.subject_id)
        )
    return list(session.scalars(query))


def _managed_limit(session: Session, scope: AccessScope, limit_id: int) -> LimitDefinition:
    limit = session.get(LimitDefinition, limit_id)
    if limit is None:
        raise NotFound("指定された上限が見つかりません。")
    hidden_team = limit.scope is LimitScope.TEAM and limit.subject_id not in scope.principal.admin_team_ids
    if hidden_team and not scope.principal.is_system_admin:
        raise NotFound("指定された上限が見つかりません。")
    _guard(scope, limit.scope, limit.subject_id)
    return limit


def change_limit(session: Session, scope: AccessScope, limit_id: int, amount: Decimal) -> LimitDefinition:
    limit = _managed_limit(session, scope, limit_id)
    _check_amount(amount)
    previous = str(limit.amount)
    limit.amount = amount
    limit.updated_at = utcnow()
    session.flush()
    _audit(session, scope, events.LIMIT_CHANGED, limit, previous_amount=previous)
    return limit


def remove_limit(session: Session, scope: AccessScope, limit_id: int) -> None:
    limit = _managed_limit(session, scope, limit_id)
    _audit(session, scope, events.LIMIT_REMOVED, limit)
    session.delete(limit)
    session.flush()


def load_rules(session: Session) -> list[LimitRule]:
    """Every limit with its subject's name, as the admission hot path needs them."""
    limits = list(session.scalars(select(LimitDefinition)))
    names: dict[LimitScope, dict[int, str]] = {}
    for limit_scope, (id_col, name_col) in NAME_COLUMNS.items():
        ids = {limit.subject_id for limit in limits if limit.scope is limit_scope}
        rows: list[Any] = list(session.execute(select(id_col, name_col).where(id_col.in_(ids)))) if ids else []
        names[limit_scope] = {int(row[0]): str(row[1]) for row in rows}
    return [
        LimitRule(
            id=limit.id,
            scope=limit.scope,
            subject_id=limit.subject_id,
            subject_name=names[limit.scope].get(limit.subject_id) or str(limit.subject_id),
            metric=limit.metric,
            window=limit.window,
            amount=limit.amount,
        )
        for limit in limits
    ]
