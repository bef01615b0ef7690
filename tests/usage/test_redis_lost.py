"""Redis lost mid-run (scale-out): calls a limit applies to fail closed with 503, so no quota is ever
exceeded; calls no limit applies to keep working; a settlement that cannot reach Redis never breaks
an answer already given. (docs/operations.md, 障害時の動作)"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from hiraga.errors import ServiceUnavailable
from hiraga.settings import Settings, load_settings
from hiraga.spine.call import CallOutcome, Outcome, Usage
from hiraga.spine.policy import Charge, Reservation
from hiraga.store.database import Database
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage.hooks import build_hooks
from spine.test_policy import add_limit, call_for, make_world


@pytest.fixture
def lost_redis_settings(database_url: str, tmp_path: Path) -> Settings:
    with socket.socket() as sock:  # a port nothing listens on: what a lost Redis looks like to a client
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return load_settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{port}/0",
        secret_key="test-secret-" + "r" * 40,
    )


def test_limited_calls_fail_closed_and_unlimited_calls_go_on(lost_redis_settings: Settings, database: Database) -> None:
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.TEAM, team_id, LimitMetric.TOKENS, LimitWindow.MINUTE, "100000")

    async def scenario() -> None:
        hooks = build_hooks(lost_redis_settings, database, redis_prefix="hiraga-test-lost:")
        try:
            with pytest.raises(ServiceUnavailable) as refused:
                await hooks.admit(call_for(principal, team_id))
            assert refused.value.status == 503 and refused.value.code == "limits_unavailable"
            await hooks.admit(call_for(principal, None))  # no limit applies: Redis is not asked
            # a call admitted before Redis went away settles without breaking its answer
            (rule,) = await hooks.admission.book.rules_for(call_for(principal, team_id))
            reservation = Reservation([Charge(rule, "k", 100, time.time() + 60)])
            used = CallOutcome(outcome=Outcome.OK, usage=Usage(input_tokens=1, output_tokens=1))
            await hooks.admission.settle(reservation, used)
        finally:
            await hooks.close()

    asyncio.run(scenario())
