"""Routing by task: an alias (e.g. ``auto-summarise``) whose chain is the models ranked by their
measured scores on the suites of a task, within an administrator's cost ceiling (JPY per 1,000
items), with an optional pinned model first. The gateway's router then takes, per call, the first
model of the chain that is cleared for the call's 機密性 and usable by the caller's team, and falls
back down the chain. The ranking and the reasons are an audit record (``eval_route_set``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import InvalidInput
from hiraga.evaluation.base import installed_suites
from hiraga.evaluation.leaderboard import board
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import AliasMember, AliasView
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import ModelEndpoint


@dataclass(frozen=True, slots=True)
class Ranked:
    model: str
    score: float
    cost_per_1000_jpy: Decimal
    excluded: str | None = None  # why the model is not in the chain


def ranking(db: Session, scope: AccessScope, task: str, max_cost_per_1000: Decimal | None = None) -> list[Ranked]:
    """Models by mean score over the task's suites (public suites only), best first."""
    suites = {name for name, suite in installed_suites().items() if suite.task == task}
    if not suites:
        tasks = sorted({suite.task for suite in installed_suites().values()})
        raise InvalidInput(f"タスク「{task}」の評価スイートはありません。使えるもの: {', '.join(tasks)}")
    scores: dict[str, list[float]] = defaultdict(list)
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for row in board(db, scope):
        if row.suite in suites:
            scores[row.model].append(row.score)
            costs[row.model].append(row.cost_per_1000_jpy)
    endpoints = set(db.scalars(select(ModelEndpoint.name).where(ModelEndpoint.kind == "chat")))
    ranked = []
    for model, values in scores.items():
        cost = max(costs[model])
        excluded = None
        if model not in endpoints:
            excluded = "not_an_endpoint"
        elif max_cost_per_1000 is not None and cost > max_cost_per_1000:
            excluded = "over_cost_ceiling"
        ranked.append(Ranked(model, sum(values) / len(values), cost, excluded))
    return sorted(ranked, key=lambda r: (r.excluded is not None, -r.score, r.model))


def set_task_route(
    db: Session,
    scope: AccessScope,
    *,
    task: str,
    alias: str,
    max_cost_per_1000: Decimal | None = None,
    pin: str | None = None,
) -> AliasView:
    scope.require_system_admin()
    ranked = ranking(db, scope, task, max_cost_per_1000)
    chain = [r.model for r in ranked if r.excluded is None and r.model != pin]
    if pin is not None:
        registry.find_endpoint(db, pin)
        chain.insert(0, pin)
    if not chain:
        raise InvalidInput(f"タスク「{task}」で選べるモデルがありません（評価結果と費用の上限を確認してください）。")
    view = registry.set_alias(db, scope, alias, [AliasMember(endpoint=m, priority=i) for i, m in enumerate(chain)])
    reasons = [
        {
            "model": r.model,
            "score": round(r.score, 4),
            "cost_per_1000_jpy": str(r.cost_per_1000_jpy),
            "excluded": r.excluded,
        }
        for r in ranked
    ]
    detail = {"task": task, "pinned": pin, "max_cost_per_1000_jpy": str(max_cost_per_1000), "ranking": reasons}
    events.record(db, events.EVAL_ROUTE_SET, scope.principal, subject=alias, detail=detail)
    db.commit()
    return view
