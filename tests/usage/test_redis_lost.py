"""Redis lost mid-run (scale-out): calls a limit applies to fail closed with 503, so no quota is ever
exceeded; calls no limit applies to keep working; a settlement that cannot reach Redis never breaks
an answer already given. (docs/operations.md, 障害時の動作)"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync

from hiraga.errors import ServiceUnavailable
from hiraga.settings import load_settings
from hiraga.spine.call import CallOutcome, Outcome, Usage
from hiraga.spine.policy import Charge, Reservation
from hiraga.store.database import Database
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage.hooks import build_hooks
from spine.test_policy import add_limit, call_for, make_world


class OwnRedis:
    """A redis-server of this test's own on a free port, to lose mid-run (without one: a port nothing
    listens on, which is what a lost Redis looks like to a client, from the start)."""

    def __init__(self, tmp_path: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None
        if shutil.which("redis-server"):
            args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            self.process = subprocess.Popen([*args, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
            client = redis_sync.Redis(port=self.port)
            deadline = time.monotonic() + 10
            while not _answers(client) and time.monotonic() < deadline:
                time.sleep(0.05)
            client.close()

    @property
    def up(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def lose(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _answers(client: redis_sync.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis_sync.RedisError:
        return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    yield server
    server.lose()


def test_limited_calls_fail_closed_and_unlimited_calls_go_on(
    own_redis: OwnRedis, database_url: str, database: Database, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{own_redis.port}/0",
        secret_key="test-secret-" + "r" * 40,
    )
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.TEAM, team_id, LimitMetric.TOKENS, LimitWindow.MINUTE, "100000")

    async def scenario() -> None:
        hooks = build_hooks(settings, database, redis_prefix="hiraga-test-lost:")
        try:
            admitted = call_for(principal, team_id)
            if own_redis.up:  # admitted while Redis is there, settled after it is gone
                await hooks.admit(admitted)
            own_redis.lose()
            with pytest.raises(ServiceUnavailable) as refused:
                await hooks.admit(call_for(principal, team_id))
            assert refused.value.status == 503 and refused.value.code == "limits_unavailable"
            await hooks.admit(call_for(principal, None))  # no limit applies: Redis is not asked
            used = CallOutcome(outcome=Outcome.OK, usage=Usage(input_tokens=1, output_tokens=1))
            await hooks.settle(admitted, used)  # the answer was given: settling must not break it
            (rule,) = await hooks.admission.book.rules_for(call_for(principal, team_id))
            await hooks.admission.settle(Reservation([Charge(rule, "k", 100, time.time() + 60)]), used)
        finally:
            await hooks.close()

    asyncio.run(scenario())
