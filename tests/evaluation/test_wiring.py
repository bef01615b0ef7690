"""The in-process evaluation worker: one per event loop that serves the app (a test client beside a
server thread starts the same app in two loops), each woken by ``wake`` and stopped by its own loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any, cast

import pytest

from hiraga.evaluation import wiring as wiring_module
from hiraga.evaluation.wiring import EvaluationWiring


class IdleEvaluation:
    """Nothing queued: counts each look, per thread (one loop per thread here)."""

    def __init__(self) -> None:
        self.runner = self
        self.looks: Counter[int] = Counter()

    async def run_next(self) -> None:
        self.looks[threading.get_ident()] += 1


def test_each_loop_runs_is_woken_and_stops_its_own_worker() -> None:
    ctx = cast(Any, SimpleNamespace(settings=SimpleNamespace(redis_url=None), extras={}))
    wiring = EvaluationWiring(ctx)
    idle = IdleEvaluation()
    wiring._evaluation = cast(Any, idle)
    both_started, woken, errors = threading.Barrier(2), threading.Event(), []

    async def serve() -> None:
        await wiring.start()
        await asyncio.to_thread(both_started.wait, 10)
        await asyncio.to_thread(woken.wait, 10)
        deadline = time.monotonic() + 10
        while idle.looks[threading.get_ident()] < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # the wake, not the 5 s poll, brings the second look
        await wiring.stop()

    def thread() -> None:
        try:
            asyncio.run(serve())
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=thread) for _ in range(2)]
    for t in threads:
        t.start()
    while sum(idle.looks.values()) < 2:
        time.sleep(0.01)
    wiring.wake()
    woken.set()
    for t in threads:
        t.join(20)
    assert errors == []
    assert sorted(idle.looks.values()) == [2, 2]
    assert wiring._workers == {}


class StubbornEvaluation:
    """A run that does not give way to cancellation until ``release`` is set."""

    def __init__(self) -> None:
        self.runner = self
        self.running = asyncio.Event()
        self.release = asyncio.Event()

    async def run_next(self) -> None:
        self.running.set()
        while not self.release.is_set():
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                continue


def test_stop_does_not_wait_for_ever_for_a_worker_that_ignores_cancellation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(wiring_module, "STOP_GRACE_SECONDS", 0.05)
    ctx = cast(Any, SimpleNamespace(settings=SimpleNamespace(redis_url=None), extras={}))
    wiring = EvaluationWiring(ctx)
    stubborn = StubbornEvaluation()
    wiring._evaluation = cast(Any, stubborn)

    async def serve() -> None:
        await wiring.start()
        await asyncio.wait_for(stubborn.running.wait(), 10)
        await asyncio.wait_for(wiring.stop(), 10)  # before the bound: waited for the worker for ever
        stubborn.release.set()  # let the loop close

    asyncio.run(serve())
    assert "still running" in caplog.text
