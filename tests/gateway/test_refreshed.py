"""The hot path's reloaded values: concurrent callers of a stale value share one load."""

from __future__ import annotations

import asyncio
import threading

from hiraga.gateway.refreshed import Refreshed


class CountingLoad:
    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()

    def __call__(self) -> int:
        self.calls += 1
        number = self.calls
        self.release.wait(5)
        return number


def test_concurrent_stale_readers_share_one_load():
    load = CountingLoad()
    now = [0.0]
    value = Refreshed(load, ttl=2.0, clock=lambda: now[0])

    async def scenario() -> list[int]:
        readers = [asyncio.create_task(value.get()) for _ in range(64)]
        await asyncio.sleep(0.05)
        load.release.set()
        first = await asyncio.gather(*readers)
        now[0] = 1.0
        fresh = await value.get()
        now[0] = 3.0
        stale = await value.get()
        return [*first, fresh, stale]

    got = asyncio.run(scenario())
    assert got[:64] == [1] * 64 and got[64] == 1 and got[65] == 2 and load.calls == 2


def test_invalidate_during_a_load_starts_a_new_one():
    load = CountingLoad()
    value = Refreshed(load, ttl=60.0)

    async def scenario() -> tuple[int, int]:
        early = asyncio.create_task(value.get())
        await asyncio.sleep(0.05)
        value.invalidate()  # e.g. an admin changed the registry while the old rows were being read
        late = asyncio.create_task(value.get())
        await asyncio.sleep(0.05)
        load.release.set()
        return await early, await late

    early, late = asyncio.run(scenario())
    assert (early, late) == (1, 2) and load.calls == 2
