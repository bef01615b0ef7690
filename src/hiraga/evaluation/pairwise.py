"""Pairwise judging of two runs of one suite (e.g. MT-Bench: the answers of model A and model B to
the same questions): the judge model compares each common item in both orders (``judge.pairwise``),
giving B's win rate over A with a 95 % bootstrap interval. Nothing is stored; every judge call is a
gateway call (audited, ``source = eval:<suite>``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from hiraga.errors import InvalidInput
from hiraga.evaluation import runs
from hiraga.evaluation.judge import PAIRWISE_VERSION, JudgeError, pairwise
from hiraga.evaluation.metrics import bootstrap_interval
from hiraga.evaluation.service import Evaluation
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import EvalResult, EvalRun

CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class PairwiseResult:
    suite: str
    run_a: int
    run_b: int
    judge: str
    items: int
    b_wins: int
    ties: int
    a_wins: int
    judge_errors: int
    b_win_rate: float  # ties count half
    low: float
    high: float


async def judge_runs(evaluation: Evaluation, scope: AccessScope, run_a: int, run_b: int) -> PairwiseResult:
    first, second, pairs = await asyncio.to_thread(_pairs, evaluation, scope, run_a, run_b)
    slots = asyncio.Semaphore(CONCURRENCY)

    async def ask(prompt: str) -> str:
        return await evaluation.runner.ask_judge(scope.principal, second, prompt)

    async def one(prompt: str, reference: str | None, a: str, b: str) -> float | None:
        async with slots:
            try:
                return await pairwise(ask, prompt, reference, a, b)
            except JudgeError:
                return None

    outcomes = await asyncio.gather(*(one(*pair) for pair in pairs))
    judged = [o for o in outcomes if o is not None]
    low, high = bootstrap_interval(judged, seed=run_a * 7919 + run_b)
    return PairwiseResult(
        suite=first.suite,
        run_a=first.id,
        run_b=second.id,
        judge=f"{evaluation.runner.judge_model} ({PAIRWISE_VERSION})",
        items=len(pairs),
        b_wins=sum(o == 1.0 for o in judged),
        ties=sum(o == 0.5 for o in judged),
        a_wins=sum(o == 0.0 for o in judged),
        judge_errors=len(outcomes) - len(judged),
        b_win_rate=sum(judged) / len(judged) if judged else 0.0,
        low=low,
        high=high,
    )


def _pairs(
    evaluation: Evaluation, scope: AccessScope, run_a: int, run_b: int
) -> tuple[EvalRun, EvalRun, list[tuple[str, str | None, str, str]]]:
    with evaluation.database.session() as db:
        first, second = runs.find_run(db, scope, run_a), runs.find_run(db, scope, run_b)
        if first.suite != second.suite:
            raise InvalidInput("比較できるのは同じスイートの実行どうしです。", code="eval_compare_mismatch")
        columns = (EvalResult.item_id, EvalResult.prompt, EvalResult.reference, EvalResult.output)
        answered = EvalResult.error_code.is_(None)
        a = {r[0]: r for r in db.execute(select(*columns).where(EvalResult.run_id == first.id, answered))}
        b = {r[0]: r for r in db.execute(select(*columns).where(EvalResult.run_id == second.id, answered))}
        common = sorted(a.keys() & b.keys())
        return first, second, [(a[i][1], a[i][2], a[i][3], b[i][3]) for i in common]
