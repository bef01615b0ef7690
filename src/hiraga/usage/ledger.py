"""The ledger: one writer thread per process that group-commits usage, audit and counter writes.

Callers hand it jobs and await them; the thread takes every job waiting, runs them in ONE
database transaction, commits, and then wakes the callers. So a caller whose ``await`` returned
knows its rows are committed (a ``kill -9`` after that loses nothing), and under load many calls
share one commit. Nothing is acknowledged before its commit: what a crash can lose is only the
records of calls still in flight, whose callers had not been answered "recorded" yet.

The thread keeps one connection between batches, so a batch costs no pool checkout and no
pre-ping (a round trip each on PostgreSQL, paid per call when calls come one at a time); a
connection idle for ``IDLE_RECHECK_S`` goes back to the pool and the next batch checks one out,
pinged, and a connection whose batch failed is let go.

Jobs run in order; a job that fails makes the batch roll back and be retried job by job, so one
bad row cannot sink the others. Jobs handed in with ``run_together`` name a function that writes
many items at once: the batch gathers every such item and makes ONE call of that function for
them, after the other jobs (a model call's usage and audit rows become two multi-row inserts per
batch, not two statements per call, so the audit chain's lock is held for a moment per batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

log = logging.getLogger("hiraga.usage.ledger")

Work = Callable[[Connection], Any]
WriteMany = Callable[[Connection, list[Any]], None]
MAX_BATCH = 500
HOUSEKEEPING_EVERY_S = 60.0
IDLE_RECHECK_S = 30.0


@dataclass(slots=True)
class Job:
    work: Work | None
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | None
    result: Any = None
    error: BaseException | None = None
    write_many: WriteMany | None = None  # set: ``item`` is written together with its batch's others
    item: Any = None


@dataclass
class Ledger:
    engine: Engine
    housekeeping: Work | None = None
    _queue: queue.SimpleQueue[list[Job] | None] = field(default_factory=queue.SimpleQueue)
    _handovers: dict[asyncio.AbstractEventLoop, list[Job]] = field(default_factory=dict)  # per loop
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_housekeeping: float = 0.0
    _connection: Connection | None = None  # the writer thread's, kept between batches
    _last_write: float = 0.0

    # -- callers ------------------------------------------------------------------------------
    async def run(self, work: Work) -> Any:
        """Run ``work(connection)`` in the next batch; return its result once committed."""
        return await self._committed(work)

    async def run_together(self, write_many: WriteMany, item: Any) -> None:
        """Write ``item`` with ``write_many(connection, items)`` together with every other item of
        the same function in the next batch; return once committed."""
        await self._committed(None, write_many, item)

    async def _committed(self, work: Work | None, write_many: WriteMany | None = None, item: Any = None) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._submit(Job(work, loop, future, write_many=write_many, item=item))
        return await future

    def post(self, work: Work) -> None:
        """Queue ``work`` for the next batch without waiting for it."""
        self._submit(Job(work, None, None))

    def _submit(self, job: Job) -> None:
        """Jobs submitted in one turn of an event loop reach the thread as one hand-over (one
        wake-up), not one each. Each loop hands over its own jobs: a loop that is slow to take its
        turn (or never takes it again) never holds back another loop's jobs."""
        if self._thread is None:
            self.start()
        job_loop = job.loop
        if job_loop is None:
            with contextlib.suppress(RuntimeError):  # not in a loop: straight to the thread
                job_loop = asyncio.get_running_loop()
        if job_loop is None:
            self._queue.put([job])
            return
        with self._lock:
            waiting = self._handovers.setdefault(job_loop, [])
            waiting.append(job)
            first = len(waiting) == 1
        if first:
            job_loop.call_soon(self._hand_over, job_loop)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            jobs = self._handovers.pop(loop, None)
        if jobs:
            self._queue.put(jobs)

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="hiraga-ledger", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            for loop in list(self._handovers):
                self._hand_over(loop)
            self._queue.put(None)
            thread.join(timeout)
            if not thread.is_alive():
                self._let_go()

    # -- the writer thread --------------------------------------------------------------------
    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch: list[Job] = []
            if first is None:
                stopping = True
            else:
                batch.extend(first)
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                else:
                    batch.extend(more)
            if batch:
                self._write(batch)
            self._maybe_housekeep()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on the thread's kept connection (see the module's docstring)."""
        if self._connection is not None and time.monotonic() - self._last_write > IDLE_RECHECK_S:
            self._let_go()
        if self._connection is None:
            self._connection = self.engine.connect()
        try:
            with self._connection.begin():
                yield self._connection
        except BaseException:
            self._let_go()
            raise
        finally:
            self._last_write = time.monotonic()

    def _let_go(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _write(self, batch: list[Job]) -> None:
        try:
            with self._transaction() as connection:
                together: dict[WriteMany, list[Any]] = {}
                for job in batch:
                    if job.write_many is not None:
                        together.setdefault(job.write_many, []).append(job.item)
                    else:
                        job.result = _run(job, connection)
                for write_many, items in together.items():
                    write_many(connection, items)
        except Exception:
            log.warning("ledger batch of %d failed; retrying job by job", len(batch), exc_info=True)
            for job in batch:
                self._write_alone(job)
        _wake(batch)

    def _write_alone(self, job: Job, attempts: int = 3) -> None:
        for attempt in range(attempts):
            try:
                with self.engine.begin() as connection:
                    job.result = _run(job, connection)
                job.error = None
                return
            except Exception as error:
                job.error = error
                time.sleep(0.05 * (attempt + 1))
        log.error("ledger job failed after %d attempts", attempts, exc_info=job.error)

    def _maybe_housekeep(self) -> None:
        now = time.monotonic()
        if self.housekeeping is None or now - self._last_housekeeping < HOUSEKEEPING_EVERY_S:
            return
        self._last_housekeeping = now
        try:
            with self._transaction() as connection:
                self.housekeeping(connection)
        except Exception:
            log.warning("ledger housekeeping failed", exc_info=True)


def _run(job: Job, connection: Connection) -> Any:
    if job.write_many is not None:
        return job.write_many(connection, [job.item])
    assert job.work is not None
    return job.work(connection)


def _wake(batch: list[Job]) -> None:
    """Resolve the callers' futures, one thread-safe hop per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
    for job in batch:
        if job.loop is not None:
            by_loop.setdefault(job.loop, []).append(job)
    for loop, jobs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, jobs)


def _resolve(jobs: list[Job]) -> None:
    for job in jobs:
        future = job.future
        if future is None or future.done():
            continue
        if job.error is not None:
            future.set_exception(job.error)
        else:
            future.set_result(job.result)
