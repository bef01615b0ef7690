"""A value the hot path reads from memory and reloads from the database in a worker thread when it
is older than ``ttl`` seconds. Callers that find it stale at the same moment share ONE reload (at
concurrency 64 they would otherwise start 64 identical loads, each taking the GIL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Refreshed(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._load, self._ttl, self._clock = load, ttl, clock
        self._value: T | None = None
        self._loaded_at = 0.0
        self._loading: asyncio.Task[T] | None = None

    def invalidate(self) -> None:
        """Reload on the next ``get``; a reload already running may predate the change, so it is not shared."""
        self._value, self._loading = None, None

    async def get(self) -> T:
        value = self._value
        if value is not None and self._clock() - self._loaded_at < self._ttl:
            return value
        loading = self._loading
        if loading is None or loading.get_loop() is not asyncio.get_running_loop():
            loading = self._loading = asyncio.ensure_future(self._reload())
        return await asyncio.shield(loading)

    async def _reload(self) -> T:
        me, loaded_at = asyncio.current_task(), self._clock()
        try:
            value = await asyncio.to_thread(self._load)
            if self._loading is me:
                self._value, self._loaded_at = value, loaded_at
            return value
        finally:
            if self._loading is me:
                self._loading = None
