"""The runner: every call through the gateway (audited), cost cap, budget, clearance, judge errors,
cancel, and resume after a crash without calling a finished item again (the stub counts calls)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from gateway_stub import StubUpstream
from gateway_world import World
from sqlalchemy import select, update

from hiraga.errors import Forbidden, InvalidInput
from hiraga.evaluation import pairwise as pairwise_results
from hiraga.evaluation import private_sets, runs
from hiraga.evaluation.pairwise import PairwiseResult, judge_runs
from hiraga.evaluation.runner import Progress
from hiraga.evaluation.service import Evaluation, open_evaluation
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, EvalPairwise, EvalResult, EvalRun
from hiraga.store.tables.base import utcnow
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage import limits
from shared_data import shared_data

from .conftest import OPERATOR

REFUSAL = "申し訳ありませんが、お答えできません。"


def execute(settings: Settings, request: runs.RunRequest, hook: Any = None) -> tuple[int, str]:
    async def scenario() -> tuple[int, str]:
        async with open_evaluation(settings) as service:
            created = await service.start_run(OPERATOR, request)
            assert runs.claim_run(service.database, timedelta(seconds=60), created.id) == created.id
            return created.id, await service.runner.execute(created.id, hook)

    return asyncio.run(scenario())


def load(database: Database, run_id: int) -> tuple[EvalRun, list[EvalResult]]:
    with database.session() as db:
        run = db.get(EvalRun, run_id)
        assert run is not None
        found = list(db.scalars(select(EvalResult).where(EvalResult.run_id == run_id).order_by(EvalResult.ordinal)))
        return run, found


def prompts_called(stub: StubUpstream) -> Counter[str]:
    return Counter(r.body["messages"][-1]["content"] for r in stub.chat_requests() if r.body)


def test_a_run_calls_every_item_through_the_gateway(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    stub.responder = lambda body: REFUSAL  # declines everything: right on 8 probes, over-refusal on 8
    run_id, state = execute(settings, runs.RunRequest("safety", "stub-a", concurrency=4))
    run, results = load(database, run_id)
    assert state == runs.COMPLETED and run.state == runs.COMPLETED
    assert len(results) == 16 == run.items_done and len(stub.chat_requests()) == 16
    assert sum(r.score or 0 for r in results) / 16 == pytest.approx(0.5)
    assert Counter(json.loads(r.detail_json)["finding"] for r in results)["over_refusal"] == 8
    assert all(r.endpoint_name == "stub-a" and r.output == REFUSAL for r in results)
    # stub usage 11 + 29 tokens at 1 and 2 JPY per 1k → 0.069 JPY per item
    assert run.cost_jpy == pytest.approx(Decimal("0.069") * 16)
    with database.session() as db:
        audited = db.scalars(select(AuditRecord.source).where(AuditRecord.action == "model_call")).all()
    assert Counter(audited)["eval:safety"] == 16
    assert stub.chat_requests()[0].body["temperature"] == 0.0 and stub.chat_requests()[0].body["seed"] == 0


def test_resume_after_a_crash_never_calls_a_finished_item_again(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    stub.responder = lambda body: time.sleep(0.1) or REFUSAL  # ~0.1 s an item: a batch is written before the kill

    async def crash_then_resume() -> int:
        async with open_evaluation(settings) as service:
            created = await service.start_run(OPERATOR, runs.RunRequest("safety", "stub-b", concurrency=2))
            runs.claim_run(service.database, timedelta(seconds=60), created.id)
            task = asyncio.current_task()
            victim = asyncio.create_task(service.runner.execute(created.id, lambda p: _kill_at(p, 10, victim)))
            with pytest.raises(asyncio.CancelledError):
                await victim  # the process "dies": no finish, the heartbeat just stops
            assert task is not None
            with service.database.session() as db:  # time passes: the heartbeat is stale
                db.execute(update(EvalRun).values(heartbeat_at=utcnow() - timedelta(minutes=10)))
                written.extend(db.scalars(select(EvalResult.prompt)))
            assert await service.runner.run_next() == created.id  # another worker takes it over
            return created.id

    written: list[str] = []
    run_id = asyncio.run(crash_then_resume())
    run, results = load(database, run_id)
    assert run.state == runs.COMPLETED and len(results) == 16 == len({r.item_id for r in results})
    calls = prompts_called(stub)
    assert 1 <= len(written) < 16 and all(calls[prompt] == 1 for prompt in written)


def _kill_at(progress: Progress, done: int, victim: asyncio.Task[Any]) -> None:
    if progress.done >= done:
        victim.cancel()


def test_cost_cap_pauses_the_run_and_resume_goes_on(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    request = runs.RunRequest("safety", "stub-a", concurrency=1, cost_cap_jpy=Decimal("0.2"))
    run_id, state = execute(settings, request)
    run, results = load(database, run_id)
    assert state == runs.PAUSED and run.error_code == "eval_cost_cap" and len(results) == 3  # 3 × 0.069 ≥ 0.2
    with database.session() as db:
        resumed = runs.resume_run(db, OPERATOR, run_id)
        resumed.cost_cap_jpy = None
        db.commit()
    asyncio.run(_run_next(settings))
    run, results = load(database, run_id)
    assert run.state == runs.COMPLETED and len(results) == 16 and len(stub.chat_requests()) == 16


async def _run_next(settings: Settings) -> int | None:
    async with open_evaluation(settings) as service:
        return await service.runner.run_next()


def test_budget_exhausted_pauses_the_run(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str], world: World
) -> None:
    with database.session() as db:
        spec = limits.LimitSpec(LimitScope.TEAM, world.team_a, LimitMetric.REQUESTS, LimitWindow.DAY, Decimal(2))
        limits.create_limit(db, OPERATOR, spec)
        db.commit()
    run_id, state = execute(settings, runs.RunRequest("safety", "stub-b", concurrency=1, team_id=world.team_a))
    run, results = load(database, run_id)
    assert state == runs.PAUSED and run.error_code == "eval_budget_exhausted"
    assert len(results) == 2 == len(stub.chat_requests())


def upload(database: Database, team_id: int, lines: list[dict[str, Any]], level: int = 1) -> int:
    data = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    with database.session() as db:
        created = private_sets.upload_set(
            db, OPERATOR, team_id=team_id, name="窓口FAQ", classification=level, chunks=io.BytesIO(data), kind="jsonl",
            max_items=100,
        )  # fmt: skip
        return created.id


def test_a_set_above_the_models_clearance_is_refused_before_any_call(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str], world: World
) -> None:
    set_id = upload(database, world.team_a, [{"prompt": "住所は？", "reference": "東京", "scorer": "exact"}], level=2)
    with pytest.raises(Forbidden) as refused:
        execute(settings, runs.RunRequest(f"set:{set_id}", "stub-b"))
    assert refused.value.code == "eval_not_cleared"
    assert stub.requests == []
    with database.session() as db:
        assert db.scalar(select(EvalRun.id)) is None


def test_private_set_items_are_scored_by_their_scorers_and_judge_errors_do_not_stop_the_run(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str], world: World
) -> None:
    stub.responder = lambda body: "答えは東京都です。"
    lines = [
        {"id": "q1", "prompt": "首都は？", "reference": "東京都", "scorer": "contains"},
        {"id": "q2", "prompt": "首都は？（完全一致）", "reference": "東京都", "scorer": "exact"},
        {"id": "q3", "prompt": "説明して", "scorer": "judge", "rubric": "正確さ"},
        {"id": "q4", "prompt": "形式", "scorer": "regex", "pattern": "東京.+です"},
    ]
    set_id = upload(database, world.team_a, lines, level=2)
    run_id, state = execute(settings, runs.RunRequest(f"set:{set_id}", "stub-a"))
    run, results = load(database, run_id)
    scores = {r.item_id: (r.score, r.error_code) for r in results}
    assert state == runs.COMPLETED and run.team_id == world.team_a and run.classification == 2
    assert scores == {"q1": (1.0, None), "q2": (0.0, None), "q3": (None, "judge_error"), "q4": (1.0, None)}
    assert run.items_failed == 1


def test_cancel_stops_the_run_between_items(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    stub.responder = lambda body: time.sleep(0.1) or REFUSAL  # a model that takes a moment per item

    def cancel_at_two(progress: Progress) -> None:
        if progress.done == 2:
            with database.session() as db:
                runs.cancel_run(db, OPERATOR, int(db.scalar(select(EvalRun.id)) or 0))

    run_id, state = execute(settings, runs.RunRequest("safety", "stub-b", concurrency=1), cancel_at_two)
    run, results = load(database, run_id)
    assert state == runs.CANCELLED and run.state == runs.CANCELLED
    assert 2 <= len(results) < 16


def test_an_upstream_failure_marks_the_item_failed_and_the_run_goes_on(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    stub.plan(("status", 400))
    run_id, state = execute(settings, runs.RunRequest("safety", "stub-b", concurrency=1, limit=3))
    run, results = load(database, run_id)
    assert state == runs.COMPLETED and len(results) == 3
    assert results[0].score is None and results[0].error_code and run.items_failed == 1


def test_evaluation_is_built_from_the_settings(settings: Settings) -> None:
    async def build() -> Evaluation:
        async with open_evaluation(settings) as service:
            return service

    assert asyncio.run(build()).runner.stale_after == timedelta(seconds=settings.eval_stale_seconds)


def test_mt_bench_second_turns_see_the_models_own_first_answer_and_are_judged_in_context(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    def answer(body: dict[str, Any]) -> str:
        messages, prompt = body["messages"], body["messages"][-1]["content"]
        if body["model"] == "stub-b":  # the model under test: turn 1, then turn 2 with its own answer
            if len(messages) == 1:
                return "最初の回答です。"
            return "二つ目の回答です。" if messages[1] == {"role": "assistant", "content": "最初の回答です。"} else "?"
        in_context = "[1問目への回答]\n最初の回答です。" in prompt
        if in_context and "[2問目への回答（採点対象）]\n二つ目の回答です。" in prompt:
            return "文脈を踏まえている。\n評価: 5"
        return "よく書けている。\n評価: 8" if "[回答]\n最初の回答です。" in prompt else "採点できません"

    stub.responder = answer
    judged = settings.model_copy(update={"eval_judge_model": "stub-a", "eval_data_dir": shared_data()})
    run_id, state = execute(judged, runs.RunRequest("mt-bench-ja", "stub-b", limit=3, concurrency=1))
    run, results = load(database, run_id)
    assert state == runs.COMPLETED and len(results) == 3 and run.items_failed == 0
    assert all(r.score == pytest.approx((7 / 9 + 4 / 9) / 2) for r in results)
    details = [json.loads(r.detail_json) for r in results]
    assert {d["judge"] for d in details} == {"single-v1+single-multi-v1"}
    assert all(d["turn_grades"] == [8, 5] for d in details)
    assert results[0].output == "[1問目への回答]\n最初の回答です。\n\n[2問目への回答]\n二つ目の回答です。"
    assert results[0].prompt.startswith("[1問目]\n") and "\n\n[2問目]\n" in results[0].prompt
    second_turns = [r.body for r in stub.chat_requests() if r.body and r.body["model"] == "stub-b"][1::2]
    assert all(len(b["messages"]) == 3 and b["messages"][2]["role"] == "user" for b in second_turns)
    judge_calls = [r.body for r in stub.chat_requests() if r.body and r.body["model"] == "stub-a"]
    assert len(judge_calls) == 6 and "参考解答" in judge_calls[0]["messages"][-1]["content"]
    with database.session() as db:
        sources = db.scalars(select(AuditRecord.source).where(AuditRecord.action == "model_call")).all()
    assert Counter(sources)["eval:mt-bench-ja"] == 12  # two turns and two grades per item, all audited


def test_a_suite_without_its_data_fails_the_run_with_the_reason(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    run_id, state = execute(settings, runs.RunRequest("reading", "stub-b", limit=2))  # HIRAGA_EVAL_DATA_DIR unset
    run, results = load(database, run_id)
    assert (
        state == runs.FAILED
        and run.error_code == "eval_data_missing"
        and "HIRAGA_EVAL_DATA_DIR" in str(run.error_message)
    )
    assert results == [] and stub.requests == []


def test_pairwise_judging_sees_both_orders_and_a_position_bias_is_a_tie(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    stub.responder = lambda body: "良い回答" if body["model"] == "stub-a" else "普通の回答"
    first, _ = execute(settings, runs.RunRequest("safety", "stub-b", limit=3))
    second, _ = execute(settings, runs.RunRequest("safety", "stub-a", limit=3))
    judged = settings.model_copy(update={"eval_judge_model": "stub-b"})

    def judge_with(verdict: Any) -> PairwiseResult:
        stub.responder = verdict

        async def go() -> PairwiseResult:
            async with open_evaluation(judged) as service:
                return await judge_runs(service, OPERATOR, first, second)

        return asyncio.run(go())

    def prefers_good(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        return "判定: A" if prompt.index("良い回答") < prompt.index("普通の回答") else "判定: B"

    fair = judge_with(prefers_good)
    assert (fair.items, fair.b_wins, fair.ties, fair.a_wins, fair.b_win_rate) == (3, 3, 0, 0, 1.0)
    assert {(v["ab"], v["ba"], v["outcome"]) for v in fair.verdicts} == {("B", "A", 1.0)}
    biased = judge_with(lambda body: "判定: A")  # always the first shown: cancelled by the swap
    assert (biased.ties, biased.position_bias, biased.b_win_rate) == (3, 3, 0.5)
    mute = judge_with(lambda body: "どちらとも言えない")
    assert mute.judge_errors == 3 and (mute.judge_model, mute.judge_version) == ("stub-b", "pairwise-v1")
    with database.session() as db:  # each judgement is stored; the newest is the one shown
        stored = pairwise_results.latest(db, OPERATOR, first, second)
        assert pairwise_results.latest(db, OPERATOR, second, first) is None
    assert stored is not None and stored.id == mute.id and stored.verdicts == mute.verdicts
    assert {fair.id, biased.id, mute.id} == {mute.id - 2, mute.id - 1, mute.id}


def test_pairwise_judging_without_a_judge_model_is_refused_and_stores_nothing(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    first, _ = execute(settings, runs.RunRequest("safety", "stub-b", limit=1))

    async def go() -> None:
        async with open_evaluation(settings) as service:
            await judge_runs(service, OPERATOR, first, first)

    with pytest.raises(InvalidInput) as refused:
        asyncio.run(go())
    assert refused.value.code == "eval_judge_not_configured"
    with database.session() as db:
        assert db.scalars(select(EvalPairwise)).all() == []
