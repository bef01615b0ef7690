"""Hangs evaluation into the app: the ``Evaluation`` of this process (over the app's gateway) and,
in the embedded shape (no Redis), an in-process worker task that executes queued runs and takes over
runs left by a process that died. In the scale-out shape ``hiraga eval worker`` processes do."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from hiraga.evaluation.service import Evaluation
from hiraga.web.context import AppContext

log = logging.getLogger("hiraga.evaluation")
WIRING_KEY = "evaluation"
POLL_SECONDS = 5.0
STOP_GRACE_SECONDS = 10.0  # the app's shutdown waits this long for a cancelled worker, then goes on


class EvaluationWiring:
    """One worker task per event loop that serves the app: the same app may be started by two
    loops at once (a test client beside a server thread), and an asyncio task or event belongs to
    the loop that made it."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._evaluation: Evaluation | None = None
        self._workers: dict[asyncio.AbstractEventLoop, tuple[asyncio.Task[None], asyncio.Event]] = {}

    @property
    def evaluation(self) -> Evaluation:
        if self._evaluation is None:
            self._evaluation = Evaluation(self.ctx.database, self.ctx.extras["gateway"], self.ctx.settings)
        return self._evaluation

    def wake(self) -> None:
        """A run was queued: let the in-process workers look now (safe from any thread)."""
        for loop, (_task, wake) in list(self._workers.items()):
            with contextlib.suppress(RuntimeError):  # a loop closing right now
                loop.call_soon_threadsafe(wake.set)

    async def start(self) -> None:
        if self.ctx.settings.redis_url is not None:
            return
        wake = asyncio.Event()
        task = asyncio.create_task(self._work(wake), name="hiraga-eval-worker")
        self._workers[asyncio.get_running_loop()] = (task, wake)

    async def stop(self) -> None:
        worker = self._workers.pop(asyncio.get_running_loop(), None)
        if worker is None:
            return
        task = worker[0]
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        if not done:  # a run that does not give way to cancellation must not hold the shutdown
            log.warning("evaluation worker: still running %.0f s after it was cancelled", STOP_GRACE_SECONDS)
        elif not task.cancelled() and task.exception() is not None:
            log.warning("evaluation worker: ended with an error", exc_info=task.exception())

    async def _work(self, wake: asyncio.Event) -> None:
        while True:
            try:
                claimed = await self.evaluation.runner.run_next()
            except Exception:  # e.g. an unmigrated database: try again at the next poll
                log.warning("evaluation worker: a run could not be executed", exc_info=True)
                claimed = None
            if claimed is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()


def of(ctx: AppContext) -> EvaluationWiring:
    wiring: EvaluationWiring = ctx.extras[WIRING_KEY]
    return wiring


def install(app: FastAPI, ctx: AppContext) -> EvaluationWiring:
    wiring = EvaluationWiring(ctx)
    ctx.extras[WIRING_KEY] = wiring
    app.router.add_event_handler("startup", wiring.start)
    # stopped first at shutdown, while the gateway is still open: an item in flight is then simply
    # not written (a resumed run calls it again) instead of failing on a closed connection pool
    app.router.on_shutdown.insert(0, wiring.stop)
    return wiring
