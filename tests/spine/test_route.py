"""Endpoint selection: team access, clearance, least in-flight, retries, fallback, circuit breaker."""

from __future__ import annotations

import asyncio

import pytest

from hiraga.errors import HiragaError
from hiraga.identity.principal import Principal
from hiraga.providers.base import EndpointConfig, UpstreamError
from hiraga.spine.call import CallOutcome, Classification, ModelCall
from hiraga.spine.route import BreakerPolicy, ModelNotFound, NotCleared, RetryPolicy, Router
from hiraga.store.tables import TeamRole

ALICE = Principal(user_id=1, email="a@example.jp", display_name="A", team_roles={10: TeamRole.MEMBER})


def ep(id: int, **fields) -> EndpointConfig:
    return EndpointConfig(id=id, name=f"ep{id}", provider="openai", **fields)


def call(level: int = 1, team_id: int | None = None) -> ModelCall:
    return ModelCall(
        principal=ALICE, kind="chat", requested_model="m", classification=Classification(level), team_id=team_id
    )


async def no_sleep(_: float) -> None:
    return None


def router(**kwargs) -> Router:
    return Router(sleep=no_sleep, **kwargs)


def test_candidates_filter_by_team_and_clearance():
    tiers = [[ep(1, clearance=1), ep(2, clearance=3, team_ids=frozenset({99}))], [ep(3, clearance=3)]]
    assert [[e.id for e in t] for t in Router.candidates(call(1), tiers, "chat")] == [[1], [3]]
    assert [[e.id for e in t] for t in Router.candidates(call(3), tiers, "chat")] == [[3]]
    with pytest.raises(ModelNotFound):
        Router.candidates(call(1), [[ep(2, team_ids=frozenset({99}))]], "chat")
    with pytest.raises(NotCleared) as refused:
        Router.candidates(call(3), [[ep(1, clearance=2)]], "chat")
    assert refused.value.detail["rule"] == "endpoint.clearance >= request.classification"
    assert "機密性3" in refused.value.message
    with pytest.raises(ModelNotFound):  # charged to another team: that team's access counts
        Router.candidates(call(1, team_id=99), [[ep(4, team_ids=frozenset({10}))]], "chat")


def test_least_in_flight_replica_is_chosen():
    r = router()
    a, b = ep(1), ep(2)
    r._acquire(a)
    picked = []

    async def attempt(e: EndpointConfig) -> str:
        picked.append(e.id)
        return "ok"

    lease = asyncio.run(r.run([[a, b]], attempt, CallOutcome()))
    assert picked == [2] and r.in_flight(b) == 1
    lease.done(True)
    assert r.in_flight(b) == 0


def test_retry_then_fallback_then_502():
    r = router(retry=RetryPolicy(attempts_per_endpoint=2))
    tried: list[int] = []

    async def attempt(e: EndpointConfig) -> str:
        tried.append(e.id)
        if e.id != 3:
            raise UpstreamError("boom", upstream_status=500)
        return "ok"

    outcome = CallOutcome()
    lease = asyncio.run(r.run([[ep(1)], [ep(3)]], attempt, outcome))
    assert lease.endpoint.id == 3 and tried == [1, 1, 3] and outcome.attempts == 3

    async def always_fail(e: EndpointConfig) -> str:
        raise UpstreamError("down", upstream_status=502)

    with pytest.raises(HiragaError) as failed:
        asyncio.run(r.run([[ep(5)]], always_fail, CallOutcome()))
    assert failed.value.status == 502


def test_long_retry_after_moves_on_instead_of_waiting():
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    r = Router(sleep=sleep, retry=RetryPolicy(max_retry_after_seconds=2))
    tried: list[int] = []

    async def attempt(e: EndpointConfig) -> str:
        tried.append(e.id)
        if e.id == 1:
            raise UpstreamError("busy", upstream_status=429, retry_after=60)
        return "ok"

    asyncio.run(r.run([[ep(1)], [ep(2)]], attempt, CallOutcome()))
    assert tried == [1, 2] and waits == []


def test_breaker_opens_then_half_open_probe_closes_it():
    now = [0.0]
    r = router(
        retry=RetryPolicy(attempts_per_endpoint=1),
        clock=lambda: now[0],
        breaker=BreakerPolicy(failure_threshold=2, cooldown_seconds=10),
    )
    e = ep(1)
    healthy = [False]

    async def attempt(_: EndpointConfig) -> str:
        if not healthy[0]:
            raise UpstreamError("down", upstream_status=500)
        return "ok"

    for _ in range(2):
        with pytest.raises(HiragaError):
            asyncio.run(r.run([[e]], attempt, CallOutcome()))
    assert r.is_open(e)
    with pytest.raises(HiragaError) as skipped:
        asyncio.run(r.run([[e]], attempt, CallOutcome()))
    assert skipped.value.status == 503  # not even tried
    now[0] = 11
    with pytest.raises(HiragaError):  # the probe fails: open again, longer
        asyncio.run(r.run([[e]], attempt, CallOutcome()))
    now[0] = 22
    assert r.is_open(e)
    now[0] = 32
    healthy[0] = True
    asyncio.run(r.run([[e]], attempt, CallOutcome())).done(True)
    assert not r.is_open(e)


def test_max_concurrent_skips_a_full_endpoint():
    r = router()
    full, spare = ep(1, max_concurrent=1), ep(2)
    r._acquire(full)

    async def attempt(e: EndpointConfig) -> int:
        return e.id

    assert asyncio.run(r.run([[full], [spare]], attempt, CallOutcome())).value == 2
