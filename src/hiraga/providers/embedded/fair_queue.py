"""Per-caller fair queue for the embedded model's generation turns."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass

from hiraga.providers.embedded.packaged_model import EmbeddedModelError


class EmbeddedBusyError(EmbeddedModelError):
    status = 429
    code = "embedded_model_busy"
    message = "組み込みモデルが混み合っています。しばらく待ってからもう一度お試しください。"


@dataclass(eq=False)
class _Waiter:
    caller: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = False


class FairScheduler:
    """Grants ``slots`` concurrent turns; among waiting callers the least recently served goes first.

    Thread-safe and not tied to one event loop: turns are handed over with
    ``call_soon_threadsafe`` and :meth:`release` may be called from any thread.
    """

    def __init__(self, slots: int = 1, max_waiting_per_caller: int = 64) -> None:
        self._slots = max(1, slots)
        self._max_waiting = max_waiting_per_caller
        self._lock = threading.Lock()
        self._active = 0
        self._queues: dict[str, deque[_Waiter]] = {}
        self._last_served: dict[str, int] = {}
        self._tick = 0

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    async def acquire(self, caller: str) -> None:
        """Wait for a turn; on cancellation the place in the queue (or the turn) is given up."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(caller, loop, loop.create_future())
        with self._lock:
            if self._active < self._slots and not any(self._queues.values()):
                self._active += 1
                self._mark_served(caller)
                return
            queue = self._queues.setdefault(caller, deque())
            if len(queue) >= self._max_waiting:
                raise EmbeddedBusyError(detail={"caller_waiting": len(queue)})
            queue.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise

    def release(self) -> None:
        """Give a turn back and hand it to the next waiter."""
        with self._lock:
            self._active -= 1
            self._dispatch()

    def _abandon(self, waiter: _Waiter) -> None:
        with self._lock:
            if not waiter.granted:
                queue = self._queues.get(waiter.caller)
                if queue is not None and waiter in queue:
                    queue.remove(waiter)
                return
        fut = waiter.future
        if fut.done() and not fut.cancelled():
            self.release()
        # granted but not yet delivered: _deliver sees the cancelled future and releases

    def _dispatch(self) -> None:
        while self._active < self._slots:
            callers = [c for c, q in self._queues.items() if q]
            if not callers:
                self._queues.clear()
                return
            caller = min(callers, key=lambda c: self._last_served.get(c, -1))
            waiter = self._queues[caller].popleft()
            waiter.granted = True
            self._active += 1
            self._mark_served(caller)
            try:
                waiter.loop.call_soon_threadsafe(self._deliver, waiter)
            except RuntimeError:  # that event loop is closed
                self._active -= 1

    def _deliver(self, waiter: _Waiter) -> None:
        if waiter.future.done():
            self.release()
        else:
            waiter.future.set_result(None)

    def _mark_served(self, caller: str) -> None:
        self._tick += 1
        self._last_served[caller] = self._tick
        if len(self._last_served) > 4096:
            oldest = sorted(self._last_served, key=self._last_served.__getitem__)[:1024]
            for name in oldest:
                del self._last_served[name]
