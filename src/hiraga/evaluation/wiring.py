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


class EvaluationWiring:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._evaluation: Evaluation | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def evaluation(self) -> Evaluation:
        if self._evaluation is None:
            self._evaluation = Evaluation(self.ctx.database, self.ctx.extras["gateway"], self.ctx.settings)
        return self._evaluation

    def wake(self) -> None:
        """A run was queued: let the in-process worker look now (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        if self.ctx.settings.redis_url is not None:
            return
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        self._task = asyncio.create_task(self._work(), name="hiraga-eval-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            try:
                claimed = await self.evaluation.runner.run_next()
            except Exception:  # e.g. an unmigrated database: try again at the next poll
                log.warning("evaluation worker: a run could not be executed", exc_info=True)
                claimed = None
            if claimed is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                self._wake.clear()


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
