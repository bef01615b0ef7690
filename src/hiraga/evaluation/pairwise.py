"""Pairwise judging of two runs of one suite (e.g. MT-Bench: the answers of model A and model B to
the same questions): the judge model compares each common item in both orders (``judge.pairwise``),
giving B's win rate over A with a 95 % bootstrap interval. The comparison is stored (each item's
verdicts in both orders, the judge model and prompt version) and shown on the compare page; every
judge call is a gateway call (audited, ``source = eval:<suite>``)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput
from hiraga.evaluation import runs
from hiraga.evaluation.judge import PAIRWISE_VERSION, JudgeError, PairVerdict, pairwise
from hiraga.evaluation.metrics import bootstrap_interval
from hiraga.evaluation.service import Evaluation
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import EvalPairwise, EvalResult, EvalRun

CONCURRENCY = 4
Pair = tuple[str, str, str | None, str, str]  # item, prompt, reference, A's answer, B's answer


@dataclass(frozen=True, slots=True)
class PairwiseResult:
    id: int
    suite: str
    run_a: int
    run_b: int
    judge_model: str
    judge_version: str
    items: int
    b_wins: int
    ties: int
    a_wins: int
    position_bias: int  # ties because the preference flipped with the order
    judge_errors: int
    b_win_rate: float  # ties count half
    low: float
    high: float
    verdicts: list[dict[str, Any]]  # per item: item, ab, ba, outcome
    created_at: datetime | None = None

    @property
    def judge(self) -> str:
        return f"{self.judge_model} ({self.judge_version})"


async def judge_runs(evaluation: Evaluation, scope: AccessScope, run_a: int, run_b: int) -> PairwiseResult:
    """Judge the common answered items of two runs in both orders and store the comparison."""
    judge_model = evaluation.runner.judge_model
    if not judge_model:
        raise InvalidInput(
            "審査モデルが設定されていません（HIRAGA_EVAL_JUDGE_MODEL）。", code="eval_judge_not_configured"
        )
    first, second, pairs = await asyncio.to_thread(_pairs, evaluation, scope, run_a, run_b)
    slots = asyncio.Semaphore(CONCURRENCY)

    async def ask(prompt: str) -> str:
        return await evaluation.runner.ask_judge(scope.principal, second, prompt)

    async def one(pair: Pair) -> PairVerdict:
        async with slots:
            try:
                return await pairwise(ask, pair[1], pair[2], pair[3], pair[4])
            except JudgeError:
                return PairVerdict(None, None)

    verdicts = await asyncio.gather(*(one(pair) for pair in pairs))
    rows = [{"item": p[0], "ab": v.ab, "ba": v.ba, "outcome": v.outcome} for p, v in zip(pairs, verdicts, strict=True)]
    judged = [v.outcome for v in verdicts if v.outcome is not None]
    low, high = bootstrap_interval(judged, seed=first.id * 7919 + second.id)
    stored = EvalPairwise(
        suite=first.suite,
        run_a_id=first.id,
        run_b_id=second.id,
        judge_model=judge_model,
        judge_version=PAIRWISE_VERSION,
        items=len(pairs),
        b_wins=sum(o == 1.0 for o in judged),
        ties=sum(o == 0.5 for o in judged),
        a_wins=sum(o == 0.0 for o in judged),
        position_bias=sum(v.position_bias for v in verdicts),
        judge_errors=len(verdicts) - len(judged),
        b_win_rate=sum(judged) / len(judged) if judged else 0.0,
        low=low,
        high=high,
        verdicts_json=json.dumps(rows, ensure_ascii=False),
        created_by=scope.principal.user_id or None,
    )
    return await asyncio.to_thread(_store, evaluation, stored)


def _store(evaluation: Evaluation, stored: EvalPairwise) -> PairwiseResult:
    with evaluation.database.session() as db:
        db.add(stored)
        db.commit()
        return result_of(stored)


def result_of(row: EvalPairwise) -> PairwiseResult:
    return PairwiseResult(
        id=row.id,
        suite=row.suite,
        run_a=row.run_a_id,
        run_b=row.run_b_id,
        judge_model=row.judge_model,
        judge_version=row.judge_version,
        items=row.items,
        b_wins=row.b_wins,
        ties=row.ties,
        a_wins=row.a_wins,
        position_bias=row.position_bias,
        judge_errors=row.judge_errors,
        b_win_rate=row.b_win_rate,
        low=row.low,
        high=row.high,
        verdicts=json.loads(row.verdicts_json),
        created_at=row.created_at,
    )


def latest(db: Session, scope: AccessScope, run_a: int, run_b: int) -> PairwiseResult | None:
    """The newest stored pairwise judgement of B (``run_b``) against A (``run_a``), if any."""
    runs.find_run(db, scope, run_a), runs.find_run(db, scope, run_b)  # 404 for another team's runs
    query = select(EvalPairwise).where(EvalPairwise.run_a_id == run_a, EvalPairwise.run_b_id == run_b)
    found = db.scalar(query.order_by(EvalPairwise.id.desc()).limit(1))
    return result_of(found) if found is not None else None


def _pairs(evaluation: Evaluation, scope: AccessScope, run_a: int, run_b: int) -> tuple[EvalRun, EvalRun, list[Pair]]:
    with evaluation.database.session() as db:
        first, second = runs.find_run(db, scope, run_a), runs.find_run(db, scope, run_b)
        if first.suite != second.suite:
            raise InvalidInput("比較できるのは同じスイートの実行どうしです。", code="eval_compare_mismatch")
        columns = (EvalResult.item_id, EvalResult.prompt, EvalResult.reference, EvalResult.output)
        answered = EvalResult.error_code.is_(None)
        a = {r[0]: r for r in db.execute(select(*columns).where(EvalResult.run_id == first.id, answered))}
        b = {r[0]: r for r in db.execute(select(*columns).where(EvalResult.run_id == second.id, answered))}
        common = sorted(a.keys() & b.keys())
        return first, second, [(i, a[i][1], a[i][2], a[i][3], b[i][3]) for i in common]
