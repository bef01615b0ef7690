"""The leaderboard: per suite, each model's latest completed run of the suite's current version, with
the mean score and its 95 % bootstrap interval, cost per 1,000 items (JPY), latency p50/p95 and the
failed items; and the comparison of two runs of one suite (a regression shows as a negative
difference whose interval lies below zero)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput
from hiraga.evaluation import runs
from hiraga.evaluation.base import installed_suites
from hiraga.evaluation.metrics import bootstrap_interval, percentile
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import EvalResult, EvalRun


@dataclass(frozen=True, slots=True)
class BoardRow:
    suite: str
    suite_version: str
    model: str
    run_id: int
    items: int
    failed: int
    score: float
    low: float
    high: float
    cost_per_1000_jpy: Decimal
    latency_p50_ms: float
    latency_p95_ms: float


@dataclass(frozen=True, slots=True)
class Comparison:
    suite: str
    run_a: int
    run_b: int
    common_items: int
    mean_a: float
    mean_b: float
    difference: float  # b - a
    low: float
    high: float
    worse_items: list[str]  # items that scored lower in b

    @property
    def regression(self) -> bool:
        return self.high < 0


def latest_runs(db: Session, scope: AccessScope, suite: str | None = None) -> list[EvalRun]:
    """The newest completed run of each (suite, model) at the suite's current version (private sets:
    only the caller's teams')."""
    current = {name: s.version for name, s in installed_suites().items()}
    query = select(EvalRun).where(EvalRun.state == runs.COMPLETED)
    if suite is not None:
        query = query.where(EvalRun.suite == suite)
    newest: dict[tuple[str, str], EvalRun] = {}
    for run in db.scalars(query.order_by(EvalRun.id.desc())):
        if run.set_id is None and current.get(run.suite) != run.suite_version:
            continue
        if run.set_id is not None and (run.team_id is None or not scope.can_see_team(run.team_id)):
            continue
        newest.setdefault((run.suite, run.model), run)
    return list(newest.values())


def board(db: Session, scope: AccessScope, suite: str | None = None) -> list[BoardRow]:
    rows = [row_of(db, run) for run in latest_runs(db, scope, suite)]
    return sorted(rows, key=lambda r: (r.suite, -r.score, r.model))


def row_of(db: Session, run: EvalRun) -> BoardRow:
    found = db.execute(
        select(EvalResult.score, EvalResult.latency_ms, EvalResult.cost_jpy).where(EvalResult.run_id == run.id)
    ).all()
    scores = [float(score) for score, _, _ in found if score is not None]
    latencies = [float(latency) for _, latency, _ in found]
    cost = sum((Decimal(c or 0) for _, _, c in found), Decimal(0))
    low, high = bootstrap_interval(scores, seed=run.id)
    return BoardRow(
        suite=run.suite,
        suite_version=run.suite_version,
        model=run.model,
        run_id=run.id,
        items=len(found),
        failed=len(found) - len(scores),
        score=sum(scores) / len(scores) if scores else 0.0,
        low=low,
        high=high,
        cost_per_1000_jpy=(cost * 1000 / len(found)).quantize(Decimal("0.01")) if found else Decimal(0),
        latency_p50_ms=percentile(latencies, 0.5),
        latency_p95_ms=percentile(latencies, 0.95),
    )


def compare(db: Session, scope: AccessScope, run_a: int, run_b: int) -> Comparison:
    first, second = runs.find_run(db, scope, run_a), runs.find_run(db, scope, run_b)
    if first.suite != second.suite:
        raise InvalidInput("比較できるのは同じスイートの実行どうしです。", code="eval_compare_mismatch")
    a, b = _scores(db, first.id), _scores(db, second.id)
    common = sorted(a.keys() & b.keys())
    differences = [b[item] - a[item] for item in common]
    low, high = bootstrap_interval(differences, seed=first.id * 7919 + second.id)
    return Comparison(
        suite=first.suite,
        run_a=first.id,
        run_b=second.id,
        common_items=len(common),
        mean_a=sum(a[i] for i in common) / len(common) if common else 0.0,
        mean_b=sum(b[i] for i in common) / len(common) if common else 0.0,
        difference=sum(differences) / len(differences) if differences else 0.0,
        low=low,
        high=high,
        worse_items=[item for item in common if b[item] < a[item]],
    )


def _scores(db: Session, run_id: int) -> dict[str, float]:
    """item → score, a failed item counting 0 (it failed the user too)."""
    found = db.execute(select(EvalResult.item_id, EvalResult.score).where(EvalResult.run_id == run_id))
    return {item: float(score or 0.0) for item, score in found}


@dataclass(frozen=True, slots=True)
class PairedItem:
    """One item of two runs side by side (a score of None: the item failed in that run)."""

    item_id: str
    prompt: str
    reference: str | None
    output_a: str
    score_a: float | None
    output_b: str
    score_b: float | None

    @property
    def difference(self) -> float:
        return (self.score_b or 0.0) - (self.score_a or 0.0)


def side_by_side(db: Session, run_a: int, run_b: int, limit: int = 500) -> list[PairedItem]:
    """The common items of two runs (already found in the caller's scope), most worsened first."""
    columns = (EvalResult.item_id, EvalResult.prompt, EvalResult.reference, EvalResult.output, EvalResult.score)
    a = {r[0]: r for r in db.execute(select(*columns).where(EvalResult.run_id == run_a))}
    b = {r[0]: r for r in db.execute(select(*columns).where(EvalResult.run_id == run_b))}
    rows = [
        PairedItem(item, a[item][1], a[item][2], a[item][3], a[item][4], b[item][3], b[item][4])
        for item in a.keys() & b.keys()
    ]
    return sorted(rows, key=lambda r: (r.difference, r.item_id))[:limit]
