"""Upstream faults injected by the real stub server: retried, failed over, or a clear 502/503; the
usage/audit hooks see every call with its outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway_stub import REPLY, StubUpstream
from gateway_world import World, add_endpoint

from hiraga.gateway.service import Gateway
from hiraga.spine.call import CallOutcome, ModelCall, Outcome
from hiraga.spine.route import BreakerPolicy, RetryPolicy, Router

MESSAGES = [{"role": "user", "content": "こんにちは"}]


class RecordingHooks:
    """Stands in for policy/audit to check the gateway's side of the contract."""

    def __init__(self) -> None:
        self.admitted: list[str] = []
        self.settled: list[tuple[str, CallOutcome]] = []
        self.recorded: list[tuple[str, CallOutcome]] = []

    async def admit(self, call: ModelCall) -> None:
        self.admitted.append(call.request_id)

    async def settle(self, call: ModelCall, outcome: CallOutcome) -> None:
        self.settled.append((call.request_id, outcome))

    async def record(self, call: ModelCall, outcome: CallOutcome) -> None:
        self.recorded.append((call.request_id, outcome))


@pytest.fixture
def hooks(app: FastAPI) -> RecordingHooks:
    gateway: Gateway = app.state.ctx.extras["gateway"]
    recorder = RecordingHooks()
    gateway._hooks = recorder
    gateway.router = Router(retry=RetryPolicy(backoff_seconds=0.01), breaker=BreakerPolicy(failure_threshold=3))
    return recorder


def chat(client: TestClient, world: World, model: str, **extra: Any):
    return client.post(
        "/v1/chat/completions",
        headers=World.auth(world.alice_key),
        json={"model": model, "messages": MESSAGES, **extra},
    )


def stream_text(client: TestClient, world: World, model: str) -> tuple[int, str]:
    with client.stream(
        "POST",
        "/v1/chat/completions",
        headers=World.auth(world.alice_key),
        json={"model": model, "messages": MESSAGES, "stream": True},
    ) as response:
        return response.status_code, b"".join(response.iter_bytes()).decode("utf-8")


@pytest.mark.parametrize(
    "fault", [("status", 500), ("status", 503), "reset", "non_json", ("status", 429, {"retry-after": "0"})]
)
def test_transient_fault_is_retried_on_the_same_endpoint(client, world, stub: StubUpstream, hooks, fault):
    add_endpoint(client, world, "one", stub.base_url)
    stub.plan(fault)
    response = chat(client, world, "one")
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == REPLY
    assert len(stub.chat_requests()) == 2
    ((_, outcome),) = hooks.recorded
    assert outcome.outcome is Outcome.OK and outcome.attempts == 2 and outcome.usage.input_tokens > 0


def test_timeout_then_fallback_along_the_alias(client, world, stub: StubUpstream, hooks):
    add_endpoint(client, world, "slow", stub.base_url, timeout_seconds=0.3, upstream_model="slow-model")
    add_endpoint(client, world, "backup", stub.base_url, upstream_model="backup-model")
    client.put(
        "/api/v1/models/aliases/chain",
        headers=World.auth(world.admin_key),
        json={"members": [{"endpoint": "slow"}, {"endpoint": "backup", "priority": 1}]},
    )
    stub.plan(("delay", 1.0), ("delay", 1.0))
    response = chat(client, world, "chain")
    assert response.status_code == 200
    assert response.headers["x-hiraga-endpoint"] == "backup"
    assert [r.body["model"] for r in stub.chat_requests()] == ["slow-model", "slow-model", "backup-model"]
    assert hooks.recorded[0][1].endpoint_name == "backup"


def test_client_error_from_upstream_is_not_retried(client, world, stub: StubUpstream, hooks):
    add_endpoint(client, world, "one", stub.base_url)
    stub.plan(("status", 400))
    response = chat(client, world, "one")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "upstream_rejected_request"
    assert len(stub.chat_requests()) == 1
    assert hooks.recorded[0][1].outcome is Outcome.REFUSED


def test_all_upstreams_failing_is_502_then_breaker_503(client, world, stub: StubUpstream, hooks):
    add_endpoint(client, world, "down", stub.base_url)
    stub.plan(*[("status", 500)] * 10)
    first = chat(client, world, "down")
    assert first.status_code == 502
    assert first.json()["error"]["code"] == "all_upstreams_failed"
    assert "応答に失敗しました" in first.json()["error"]["message"]
    chat(client, world, "down")  # third failure opens the breaker
    calls_before = len(stub.chat_requests())
    third = chat(client, world, "down")
    assert third.status_code == 503 and "retry-after" in third.headers
    assert len(stub.chat_requests()) == calls_before  # taken out: not even tried
    assert [o.outcome for _, o in hooks.recorded] == [Outcome.FAILED] * 3
    assert len(hooks.settled) == 3  # admitted calls are always settled


def test_breaker_half_open_probe_brings_the_endpoint_back(client, world, stub: StubUpstream, app, hooks):
    now = [1000.0]
    gateway: Gateway = app.state.ctx.extras["gateway"]
    gateway.router = Router(
        retry=RetryPolicy(attempts_per_endpoint=1),
        clock=lambda: now[0],
        breaker=BreakerPolicy(failure_threshold=1, cooldown_seconds=30),
    )
    add_endpoint(client, world, "flaky", stub.base_url)
    stub.plan(("status", 502))
    assert chat(client, world, "flaky").status_code == 502
    assert chat(client, world, "flaky").status_code == 503  # open
    now[0] += 31  # cool-down over: one probe goes through and succeeds
    assert chat(client, world, "flaky").status_code == 200
    assert chat(client, world, "flaky").status_code == 200


@pytest.mark.parametrize("fault", ["malformed_sse", ("status", 500), "reset"])
def test_stream_fault_before_first_event_fails_over(client, world, stub: StubUpstream, hooks, fault):
    add_endpoint(client, world, "one", stub.base_url)
    stub.plan(fault)
    status, text = stream_text(client, world, "one")
    assert status == 200
    assert REPLY[:5] in text and text.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize(
    ("fault", "code"), [("truncated_sse", "upstream_truncated"), ("garbled_mid_sse", "upstream_malformed")]
)
def test_stream_broken_midway_ends_with_an_error_event(client, world, stub: StubUpstream, hooks, fault, code):
    add_endpoint(client, world, "one", stub.base_url)
    stub.plan(fault)
    status, text = stream_text(client, world, "one")
    assert status == 200
    last = json.loads(text.strip().split("\n\n")[-1][len("data: ") :])
    assert last["error"]["code"] == code
    ((_, outcome),) = hooks.recorded
    assert outcome.outcome is Outcome.FAILED and outcome.usage.estimated


def test_stream_without_upstream_usage_is_estimated(client, world, stub: StubUpstream, hooks):
    add_endpoint(client, world, "one", stub.base_url, price_input_per_1k="1.5", price_output_per_1k="3")
    stub.plan("no_usage")
    status, _ = stream_text(client, world, "one")
    assert status == 200
    ((_, outcome),) = hooks.recorded
    assert outcome.usage.estimated and outcome.usage.output_tokens > 0
    assert outcome.cost_jpy > 0


def test_all_stream_attempts_failing_is_a_json_error(client, world, stub: StubUpstream, hooks):
    add_endpoint(client, world, "one", stub.base_url)
    stub.plan(("status", 500), ("status", 500))
    status, text = stream_text(client, world, "one")
    assert status == 502
    assert json.loads(text)["error"]["code"] == "all_upstreams_failed"


def test_refusal_by_policy_is_recorded_and_never_routed(client, world, stub: StubUpstream, hooks):
    from hiraga.errors import TooManyRequests

    async def refuse(call: ModelCall) -> None:
        raise TooManyRequests("本日のトークン上限に達しました。", retry_after=30)

    hooks.admit = refuse  # type: ignore[method-assign]
    add_endpoint(client, world, "one", stub.base_url)
    response = chat(client, world, "one")
    assert response.status_code == 429 and response.headers["retry-after"] == "30"
    assert stub.chat_requests() == []
    assert [o.outcome for _, o in hooks.recorded] == [Outcome.REFUSED] and hooks.settled == []
