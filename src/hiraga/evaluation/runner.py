"""Runs an evaluation: every model call goes through the gateway's spine (policy: quotas, budgets,
機密性 and PII; audit: one record per call, source ``eval:<suite>``), with a bounded number of calls
in flight, a cost cap, cancel, and resume without repeating a finished item.

Finished items are written in small batches (``FLUSH_ITEMS`` or ``FLUSH_SECONDS``): a crash loses
at most the items of the last half second, which a resumed run calls again; an item that was
written is never called again. An endpoint not cleared for the run's 機密性 is refused before any
call. A budget or quota refusal pauses the run (resumable); a cost cap reached pauses it too. An
upstream failure marks the item failed and the run goes on; an unavailable judge marks the item a
judge error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from hiraga.errors import Forbidden, HiragaError, NotFound, TooManyRequests
from hiraga.evaluation import runs
from hiraga.evaluation.base import EvalItem, EvalSuite, Score, SuiteSource, suite_named
from hiraga.evaluation.judge import JudgeError, Turn, judged, judged_conversation
from hiraga.evaluation.set_suite import PrivateSetSuite
from hiraga.gateway.service import Gateway, cost_of, input_estimate
from hiraga.identity.principal import Principal
from hiraga.spine.authenticate import principal_for_user
from hiraga.spine.call import Classification, ModelCall, Usage
from hiraga.store.database import Database
from hiraga.store.tables import EvalRun, User

log = logging.getLogger("hiraga.evaluation")
RUNNER_PRINCIPAL = Principal(user_id=0, email="eval@localhost", display_name="評価", is_system_admin=True, via="cli")
POLL_SECONDS = 1.0
# finished items are written in batches: at most this many, or whatever finished within this time
FLUSH_ITEMS, FLUSH_SECONDS = 32, 0.5
READ_AHEAD = 64  # items taken from the suite per thread hop
# refusals that hold for every item (other errors, e.g. an upstream 400 or PII blocked, are the item's)
RUN_STOPPERS = frozenset({"model_not_found", "classification_not_cleared", "not_authenticated", "forbidden"})


@dataclass(slots=True)
class Progress:
    done: int
    total: int | None
    failed: int
    cost_jpy: Decimal


ProgressHook = Callable[[Progress], None]


@dataclass(slots=True)
class _Stop:
    state: str
    code: str | None = None
    message: str | None = None


class EvalRunner:
    def __init__(
        self,
        database: Database,
        gateway: Gateway,
        *,
        data_dir: Path | None,
        judge_model: str | None = None,
        stale_after: timedelta = timedelta(seconds=120),
    ) -> None:
        self.database, self.gateway, self.data_dir = database, gateway, data_dir
        self.judge_model, self.stale_after = judge_model, stale_after

    async def run_next(self, run_id: int | None = None, on_progress: ProgressHook | None = None) -> int | None:
        """Claim and execute one run (``run_id``, else the next queued or abandoned one)."""
        claimed = await asyncio.to_thread(runs.claim_run, self.database, self.stale_after, run_id)
        if claimed is not None:
            await self.execute(claimed, on_progress)
        return claimed

    async def execute(self, run_id: int, on_progress: ProgressHook | None = None) -> str:
        """Execute a run this process has claimed; its final (or paused) state."""
        run, principal = await asyncio.to_thread(self._load, run_id)
        try:
            suite = self._suite(run)
            await self._check_cleared(run)
        except HiragaError as exc:
            await asyncio.to_thread(runs.finish, self.database, run_id, runs.FAILED, exc.code, exc.message)
            return runs.FAILED
        execution = _Execution(self, run, suite, principal, on_progress)
        try:
            stop = await execution.go()
        except HiragaError as exc:  # e.g. the suite's data folder is missing
            stop = _Stop(runs.FAILED, exc.code, exc.message)
        except Exception:
            log.exception("evaluation run %s failed", run_id)
            stop = _Stop(runs.FAILED, "internal_error", "評価の実行中に内部エラーが発生しました。")
        return await asyncio.to_thread(runs.finish, self.database, run_id, stop.state, stop.code, stop.message)

    def _load(self, run_id: int) -> tuple[EvalRun, Principal]:
        with self.database.session() as db:
            run = db.get(EvalRun, run_id)
            if run is None:
                raise NotFound("評価の実行が見つかりません。", code="eval_run_not_found")
            user = db.get(User, run.created_by) if run.created_by else None
            return run, principal_for_user(db, user, via="cli") if user is not None else RUNNER_PRINCIPAL

    def _suite(self, run: EvalRun) -> EvalSuite:
        if run.set_id is not None:
            return PrivateSetSuite(self.database, run.set_id)
        return suite_named(run.suite)

    async def _check_cleared(self, run: EvalRun) -> None:
        await check_cleared(self.gateway, run.model, run.classification)

    async def ask_judge(self, principal: Principal, run: EvalRun, prompt: str) -> str:
        if not self.judge_model:
            raise JudgeError("judge model not configured")
        body = {"model": self.judge_model, "messages": [{"role": "user", "content": prompt}], "temperature": 0}
        call = _call(principal, run, self.judge_model, body, 256)
        try:
            answer = await self.gateway.chat(call, {**body, "max_tokens": 256})
        except HiragaError as exc:
            raise JudgeError(exc.code) from None
        return _text(answer.body)


async def check_cleared(gateway: Gateway, model: str, level: int) -> None:
    """Refuse before any call when no endpoint behind ``model`` is cleared for ``level``."""
    catalog = await gateway.catalog.get()
    endpoints = [ep for tier in catalog.tiers(model) for ep in tier if ep.enabled and ep.kind == "chat"]
    if not endpoints:
        raise NotFound(f"モデル「{model}」が見つかりません。", code="model_not_found")
    if not any(ep.clearance >= level for ep in endpoints):
        raise Forbidden(
            f"モデル「{model}」は機密性{level}の情報を扱うことが許可されていません。",
            code="eval_not_cleared",
            detail={"rule": "clearance", "classification": level},
        )


class _Execution:
    """One pass over a run's remaining items."""

    def __init__(
        self, runner: EvalRunner, run: EvalRun, suite: EvalSuite, principal: Principal, hook: ProgressHook | None
    ) -> None:
        self.runner, self.run, self.suite, self.principal, self.hook = runner, run, suite, principal, hook
        self.database = runner.database
        self.cost = Decimal(run.cost_jpy or 0)
        self.done, self.failed = run.items_done, run.items_failed
        self.stop: _Stop | None = None
        self.pending: list[runs.ItemResult] = []
        self.flushed_at = time.monotonic()

    async def go(self) -> _Stop:
        finished = await asyncio.to_thread(runs.finished_items, self.database, self.run.id)
        watcher = asyncio.create_task(self._watch())
        try:
            await self._dispatch(finished)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return self.stop or _Stop(runs.COMPLETED)

    async def _dispatch(self, finished: set[str]) -> None:
        source = SuiteSource(self.runner.data_dir, self.run.seed)
        items: Iterator[EvalItem] = itertools.islice(self.suite.items(source), self.run.item_limit)
        slots = asyncio.Semaphore(self.run.concurrency)
        pending: set[asyncio.Task[None]] = set()
        self._report()
        try:
            await self._feed(items, finished, slots, pending)
        except asyncio.CancelledError:  # the process is stopping: items in flight are not written
            for task in pending:
                task.cancel()
            raise
        await self._flush()

    async def _feed(
        self, items: Iterator[EvalItem], finished: set[str], slots: asyncio.Semaphore, pending: set[asyncio.Task[None]]
    ) -> None:
        """Start one task per remaining item, at most ``concurrency`` at a time; wait for them."""

        def settle(done: asyncio.Task[None]) -> None:
            pending.discard(done)
            slots.release()

        ordinal = -1
        async with contextlib.aclosing(_read_ahead(items)) as reading:
            async for item in reading:
                ordinal += 1
                if item.id in finished:
                    continue
                await slots.acquire()
                if self.stop is not None:
                    slots.release()
                    break
                task = asyncio.create_task(self._one(ordinal, item))
                pending.add(task)
                task.add_done_callback(settle)
        if pending:
            await asyncio.gather(*pending)

    async def _watch(self) -> None:
        """Heartbeat, and notice a cancel made elsewhere (page, API, another shell)."""
        interval = min(POLL_SECONDS, self.runner.stale_after.total_seconds() / 3)
        while self.stop is None:
            await asyncio.sleep(interval)
            state = await asyncio.to_thread(runs.heartbeat, self.database, self.run.id)
            if state != runs.RUNNING and self.stop is None:
                self.stop = _Stop(state)

    async def _one(self, ordinal: int, item: EvalItem) -> None:
        started = time.monotonic()
        try:
            answers, endpoint, usage, cost = await self._converse(item)
        except TooManyRequests as exc:
            self.stop = self.stop or _Stop(runs.PAUSED, "eval_budget_exhausted", exc.message)
            return
        except HiragaError as exc:
            if exc.code in RUN_STOPPERS:  # the model is gone or no longer allowed: every item would be
                self.stop = self.stop or _Stop(runs.FAILED, exc.code, exc.message)
                return
            await self._record(ordinal, item, "", None, {"error": exc.message}, exc.code, None, started, Usage())
            return
        score, code = await self._score(item, answers)
        detail: dict[str, object] = dict(score.detail) if score is not None else {"error": "judge"}
        value = score.value if score is not None else None
        output = answers[0] if len(answers) == 1 else transcript(_questions(item), answers, "回答")
        await self._record(ordinal, item, output, value, detail, code, endpoint, started, usage, cost)

    async def _converse(self, item: EvalItem) -> tuple[list[str], str, Usage, Decimal]:
        """The model's answer to the item, then to each follow-up question (``meta["followups"]``)
        with the conversation so far, its own answers included: answers, endpoint, usage, cost."""
        messages, answers = list(item.messages), list[str]()
        usage, cost, endpoint = Usage(), Decimal(0), ""
        for followup in [None, *item.meta.get("followups", ())]:
            if followup is not None:
                said = {"role": "assistant", "content": answers[-1]}
                messages = [*messages, said, {"role": "user", "content": followup}]
            body = {
                "model": self.run.model,
                "messages": messages,
                "temperature": self.run.temperature,
                "max_tokens": self.run.max_tokens,
                "seed": self.run.seed,
            }
            answer = await self.runner.gateway.chat(_call(self.principal, self.run, self.run.model, body), body)
            turn = Usage(*_usage(answer.body))
            usage = Usage(usage.input_tokens + turn.input_tokens, usage.output_tokens + turn.output_tokens)
            cost, endpoint = cost + cost_of(answer.endpoint, turn), answer.endpoint.name
            answers.append(_text(answer.body))
        return answers, endpoint, usage, cost

    async def _score(self, item: EvalItem, answers: list[str]) -> tuple[Score | None, str | None]:
        if item.meta.get("scorer") == "judge":

            async def ask(prompt: str) -> str:
                return await self.runner.ask_judge(self.principal, self.run, prompt)

            rubric = str(item.meta.get("arg"))
            try:
                if len(answers) == 1:
                    return await judged(ask, rubric, item.prompt, item.reference, answers[0]), None
                references = [*item.meta.get("references", ()), None, None]
                first = Turn(item.prompt, answers[0], references[0])
                second = Turn(_questions(item)[1], answers[1], references[1])
                return await judged_conversation(ask, rubric, first, second), None
            except JudgeError:
                return None, "judge_error"
        return await asyncio.to_thread(self.suite.score, item, answers[-1]), None

    async def _record(
        self,
        ordinal: int,
        item: EvalItem,
        output: str,
        score: float | None,
        detail: dict[str, object],
        code: str | None,
        endpoint: str | None,
        started: float,
        usage: Usage,
        cost: Decimal = Decimal(0),
    ) -> None:
        latency = (time.monotonic() - started) * 1000
        prompt = item.prompt if not item.meta.get("followups") else transcript(_questions(item), [], "")
        result = runs.ItemResult(
            item.id, ordinal, prompt, item.reference, output, score, dict(detail), code, endpoint,
            latency, usage.input_tokens, usage.output_tokens, cost,
        )  # fmt: skip
        self.pending.append(result)
        if len(self.pending) >= FLUSH_ITEMS or time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            await self._flush()
        self.done += 1
        self.failed += score is None
        self.cost += cost
        cap = self.run.cost_cap_jpy
        if cap is not None and self.cost >= cap and self.stop is None:
            self.stop = _Stop(runs.PAUSED, "eval_cost_cap", f"費用の上限 {cap} 円に達したため一時停止しました。")
        self._report()

    async def _flush(self) -> None:
        """Write the finished items (one transaction); a run cancelled elsewhere stops here."""
        batch, self.pending, self.flushed_at = self.pending, [], time.monotonic()
        if not batch:
            return
        state = await asyncio.to_thread(runs.record, self.database, self.run.id, batch)
        if state != runs.RUNNING and self.stop is None:
            self.stop = _Stop(state)

    def _report(self) -> None:
        if self.hook is not None:
            self.hook(Progress(self.done, self.run.item_limit, self.failed, self.cost))


async def _read_ahead(items: Iterator[EvalItem]) -> AsyncGenerator[EvalItem, None]:
    """The suite's items, read ``READ_AHEAD`` at a time in a worker thread (a suite may read files
    or the database): one thread hop per batch instead of one per item."""
    while True:
        batch = await asyncio.to_thread(list, itertools.islice(items, READ_AHEAD))
        for item in batch:
            yield item
        if len(batch) < READ_AHEAD:
            return


def _call(
    principal: Principal, run: EvalRun, model: str, body: dict[str, object], tokens: int | None = None
) -> ModelCall:
    return ModelCall(
        principal=principal,
        kind="chat",
        requested_model=model,
        classification=Classification(run.classification),
        team_id=run.team_id,
        estimated_input_tokens=input_estimate(body),
        max_output_tokens=tokens or run.max_tokens,
        source=f"eval:{run.suite}",
    )


def _text(body: dict[str, object]) -> str:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    message = choices[0].get("message") or {}
    return str(message.get("content") or "") if isinstance(message, dict) else ""


def _usage(body: dict[str, object]) -> tuple[int, int]:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


def _questions(item: EvalItem) -> list[str]:
    return [item.prompt, *(str(f) for f in item.meta.get("followups", ()))]


def transcript(questions: list[str], answers: list[str], label: str) -> str:
    """Turns of a conversation as one text: ``[1問目]`` … (or ``[1問目への回答]`` … with a label)."""
    texts = answers if label else questions
    suffix = f"への{label}" if label else ""
    return "\n\n".join(f"[{number}問目{suffix}]\n{text}" for number, text in enumerate(texts, 1))
