"""The in-process evaluation worker: one per event loop that serves the app (a test client beside a
server thread starts the same app in two loops), each woken by ``wake`` and stopped by its own loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any, cast

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
