"""Quota admission: atomic under concurrency on SQLite, PostgreSQL and Redis; budgets in yen;
Retry-After; reconciliation of reserved against real usage."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis as redis_sync
from sqlalchemy import select

from hiraga.errors import TooManyRequests
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.settings import Settings, load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import CallOutcome, ModelCall, Outcome, Usage
from hiraga.store.database import Database
from hiraga.store.tables import LimitCounter, TeamRole
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage import limits
from hiraga.usage.hooks import UsageHooks, build_hooks
from hiraga.usage.windows import JST

ROOT = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["database", "redis"])
def counter_settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Settings]:
    redis_url = REDIS_URL if request.param == "redis" else None
    yield load_settings(
        data_dir=tmp_path / "d", database_url=database_url, redis_url=redis_url, secret_key="test-secret-" + "q" * 40
    )


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"hiraga-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis_sync.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def make_world(database: Database) -> tuple[Principal, int]:
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "テスト市")
        team = directory.create_team(db, ROOT, org.id, "企画課")
        user = directory.create_user(db, ROOT, email="taro@example.jp", password=None, display_name="山田 太郎")
        directory.set_membership(db, ROOT, team.id, user.id, TeamRole.MEMBER)
    principal = Principal(
        user_id=user.id, email=user.email, display_name="山田 太郎", team_roles={team.id: TeamRole.MEMBER}
    )
    return principal, team.id


def add_limit(
    database: Database, scope: LimitScope, subject: int, metric: LimitMetric, window: LimitWindow, amount: str
) -> int:
    with database.session() as db:
        spec = limits.LimitSpec(scope, subject, metric, window, Decimal(amount))
        return limits.create_limit(db, ROOT, spec).id


def hooks_for(settings: Settings, database: Database, prefix: str, now: float | None = None) -> UsageHooks:
    hooks = build_hooks(settings, database, redis_prefix=prefix)
    if now is not None:
        hooks.admission.clock = lambda: now
    return hooks


def call_for(principal: Principal, team_id: int, **kwargs: object) -> ModelCall:
    return ModelCall(principal=principal, kind="chat", requested_model="m", team_id=team_id, **kwargs)  # type: ignore[arg-type]


async def try_admit(hooks: UsageHooks, call: ModelCall) -> TooManyRequests | None:
    try:
        await hooks.admit(call)
    except TooManyRequests as refusal:
        return refusal
    return None


def test_fifty_concurrent_calls_against_ten_per_minute_admit_exactly_ten(
    counter_settings: Settings, database: Database, redis_prefix: str
) -> None:
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.TEAM, team_id, LimitMetric.REQUESTS, LimitWindow.MINUTE, "10")

    async def scenario() -> list[TooManyRequests | None]:
        # two hook sets = two independent writers (own DB connection / own Redis client)
        first = hooks_for(counter_settings, database, redis_prefix)
        second = hooks_for(counter_settings, database, redis_prefix)
        calls = [try_admit(first if i % 2 else second, call_for(principal, team_id)) for i in range(50)]
        results = await asyncio.gather(*calls)
        await first.close()
        await second.close()
        return results

    results = asyncio.run(scenario())
    refusals = [r for r in results if r is not None]
    assert len(results) - len(refusals) == 10
    assert len(refusals) == 40
    refusal = refusals[0]
    assert refusal.status == 429
    assert refusal.message == "チーム「企画課」の1分あたりのリクエスト数上限（10）に達しました。"
    assert 1 <= int(refusal.headers["Retry-After"]) <= 60
    assert refusal.code == "rate_limited"


def test_yen_budget_is_reserved_at_admission_and_spent_at_settlement(
    counter_settings: Settings, database: Database, redis_prefix: str
) -> None:
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.USER, principal.user_id, LimitMetric.COST_JPY, LimitWindow.DAY, "1.5")
    today = datetime.now(JST).replace(hour=0, minute=0, second=0, microsecond=0)
    now = (today + timedelta(hours=23)).timestamp()  # one hour before midnight in Japan
    prices = {"max_input_price_per_1k_jpy": Decimal("1"), "max_output_price_per_1k_jpy": Decimal("2")}

    async def scenario() -> tuple[list[TooManyRequests | None], list[TooManyRequests | None]]:
        hooks = hooks_for(counter_settings, database, redis_prefix, now)
        # each reserves 100 input x 1円/1k + 200 output x 2円/1k = 0.5円
        calls = [
            call_for(principal, team_id, estimated_input_tokens=100, max_output_tokens=200, **prices) for _ in range(4)
        ]
        first = [await try_admit(hooks, c) for c in calls]
        for call in calls[:3]:  # each really cost 0.1円 → 0.3円 spent, 1.2円 left
            outcome = CallOutcome(outcome=Outcome.OK, usage=Usage(50, 25), cost_jpy=Decimal("0.1"))
            await hooks.settle(call, outcome)
            await hooks.record(call, outcome)
        later = [
            await try_admit(
                hooks, call_for(principal, team_id, estimated_input_tokens=100, max_output_tokens=200, **prices)
            )
            for _ in range(3)
        ]
        await hooks.close()
        return first, later

    first, later = asyncio.run(scenario())
    assert [r is None for r in first] == [True, True, True, False]
    refusal = first[3]
    assert refusal is not None
    assert refusal.message == "利用者「山田 太郎」の1日あたりの利用料金上限（1.5円）に達しました。"
    assert refusal.retry_after == 3600  # until midnight in Japan
    assert refusal.code == "quota_exceeded"
    # 0.3円 spent; each new call reserves 0.5円: 0.8, 1.3, then 1.8 > 1.5 is refused
    assert [r is None for r in later] == [True, True, False]


def test_reconciliation_replaces_the_reservation_by_real_tokens(
    counter_settings: Settings, database: Database, redis_prefix: str
) -> None:
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.TEAM, team_id, LimitMetric.TOKENS, LimitWindow.MONTH, "1000")

    async def scenario() -> list[bool]:
        hooks = hooks_for(counter_settings, database, redis_prefix)
        big = call_for(principal, team_id, estimated_input_tokens=500, max_output_tokens=400)
        assert await try_admit(hooks, big) is None  # 900 reserved
        blocked = await try_admit(hooks, call_for(principal, team_id, estimated_input_tokens=200, max_output_tokens=0))
        outcome = CallOutcome(outcome=Outcome.OK, usage=Usage(500, 100, estimated=True))
        await hooks.settle(big, outcome)  # really used 600
        await hooks.record(big, outcome)
        fits = await try_admit(
            hooks, call_for(principal, team_id, estimated_input_tokens=200, max_output_tokens=200)
        )  # 600 + 400 = 1000
        full = await try_admit(hooks, call_for(principal, team_id, estimated_input_tokens=1, max_output_tokens=0))
        await hooks.close()
        return [blocked is not None, fits is None, full is not None]

    assert asyncio.run(scenario()) == [True, True, True]
    if counter_settings.redis_url is None:
        with database.session() as db:
            assert db.scalars(select(LimitCounter.used)).all() == [1000]


def test_a_failed_call_gives_its_reservation_back(
    counter_settings: Settings, database: Database, redis_prefix: str
) -> None:
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.TEAM, team_id, LimitMetric.TOKENS, LimitWindow.MINUTE, "100")

    async def scenario() -> list[bool]:
        hooks = hooks_for(counter_settings, database, redis_prefix)
        results = []
        for _ in range(3):
            call = call_for(principal, team_id, estimated_input_tokens=30, max_output_tokens=50)
            results.append(await try_admit(hooks, call) is None)
            outcome = CallOutcome(outcome=Outcome.FAILED, error_code="upstream_failed")
            await hooks.settle(call, outcome)
            await hooks.record(call, outcome)
        await hooks.close()
        return results

    assert asyncio.run(scenario()) == [True, True, True]


def test_the_next_window_admits_again(counter_settings: Settings, database: Database, redis_prefix: str) -> None:
    principal, team_id = make_world(database)
    add_limit(database, LimitScope.USER, principal.user_id, LimitMetric.REQUESTS, LimitWindow.MINUTE, "1")
    minute = (time.time() // 60 + 1) * 60  # the next minute (counters in the past are swept)

    async def scenario() -> list[bool]:
        hooks = hooks_for(counter_settings, database, redis_prefix, minute + 10)
        results = [await try_admit(hooks, call_for(principal, team_id)) is None for _ in range(2)]
        hooks.admission.clock = lambda: minute + 70
        results.append(await try_admit(hooks, call_for(principal, team_id)) is None)
        await hooks.close()
        return results

    assert asyncio.run(scenario()) == [True, False, True]


def test_calls_outside_any_limit_touch_no_counter(database: Database, settings: Settings) -> None:
    principal, team_id = make_world(database)

    async def scenario() -> None:
        hooks = build_hooks(settings, database)
        for _ in range(3):
            await hooks.admit(call_for(principal, team_id))
        await hooks.close()

    asyncio.run(scenario())
    with database.session() as db:
        assert db.scalars(select(LimitCounter)).all() == []
