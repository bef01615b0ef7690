"""The ledger's hand-over from event loops to its writer thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from hiraga.usage.ledger import Ledger, Work


def test_a_loop_that_does_not_take_its_turn_holds_back_no_other_loops_jobs(tmp_path: Path) -> None:
    """Two event loops share one ledger (a server thread beside a test client, or any embedder's
    second loop). Loop A submits a job and then does not take its next turn; a job loop B submits
    meanwhile is committed without waiting for A, and A's job is committed once A runs again. (All
    jobs once went into one hand-over list that the first loop's turn emptied: B's job waited for A,
    and two loops appending at once could both miss scheduling the hand-over, so a caller waited
    for ever.)"""
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE written (who TEXT)"))
    ledger = Ledger(engine)

    def write(who: str) -> Work:
        return lambda connection: connection.execute(text("INSERT INTO written VALUES (:who)"), {"who": who})

    submitted, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    async def loop_a() -> None:
        job = asyncio.ensure_future(ledger.run(write("a")))
        await asyncio.sleep(0)  # the job is submitted: its hand-over is scheduled on this loop
        submitted.set()
        release.wait(30)  # this loop takes no turn until released
        outcome["a"] = await asyncio.wait_for(job, 30)

    thread = threading.Thread(target=asyncio.run, args=(loop_a(),))
    thread.start()
    try:
        assert submitted.wait(30)
        asyncio.run(asyncio.wait_for(ledger.run(write("b")), 10))  # raised TimeoutError before the fix
        assert _written(engine) == ["b"]
    finally:
        release.set()
        thread.join(30)
        ledger.close()
    assert not thread.is_alive()
    assert "a" in outcome
    assert sorted(_written(engine)) == ["a", "b"]


def _written(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT who FROM written ORDER BY rowid"))]
