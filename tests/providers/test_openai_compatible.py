"""The OpenAI-compatible provider against a real HTTP stub server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_stub import REPLY, StubUpstream

from hiraga.net.outbound import OutboundClient
from hiraga.providers.base import EndpointConfig, UpstreamError, UpstreamRejected
from hiraga.providers.openai_compatible import AzureOpenAIProvider, OpenAICompatibleProvider

_STUB = StubUpstream()
LOOPBACK = ["127.0.0.1"]


@pytest.fixture(scope="module")
def stub() -> StubUpstream:
    return _STUB.start() if not _STUB.port else _STUB


def endpoint(stub: StubUpstream, **fields) -> EndpointConfig:
    return EndpointConfig(
        id=1, name="n", provider="openai", base_url=stub.base_url, upstream_model="up", api_key="sk-1", **fields
    )


def run(coro):
    return asyncio.run(coro)


async def call(provider: OpenAICompatibleProvider, ep: EndpointConfig, body: dict, stream: bool = False):
    try:
        if stream:
            return [e async for e in provider.stream_chat(ep, body, caller="t")]
        return await provider.chat(ep, body, caller="t")
    finally:
        await provider.aclose()


BODY = {"model": "n", "messages": [{"role": "user", "content": "こんにちは"}]}


@pytest.mark.parametrize(
    ("script", "kind", "code"),
    [
        (("status", 500), UpstreamError, "upstream_failed"),
        (("status", 400), UpstreamRejected, "upstream_rejected_request"),
        ("reset", UpstreamError, "upstream_unreachable"),
        ("non_json", UpstreamError, "upstream_malformed"),
        (("delay", 1.0), UpstreamError, "upstream_timeout"),
    ],
)
def test_faults_become_typed_errors(stub: StubUpstream, script, kind, code):
    stub.reset()
    stub.plan(script)
    with pytest.raises(kind) as raised:
        run(call(OpenAICompatibleProvider(allowed_hosts=LOOPBACK), endpoint(stub, timeout_seconds=0.3), BODY))
    assert raised.value.code == code


def test_429_carries_retry_after(stub: StubUpstream):
    stub.reset()
    stub.plan(("status", 429, {"retry-after": "7"}))
    with pytest.raises(UpstreamError) as raised:
        run(call(OpenAICompatibleProvider(allowed_hosts=LOOPBACK), endpoint(stub), BODY))
    assert raised.value.retry_after == 7 and raised.value.retry_same


def test_stream_events_arrive_whole_despite_split_writes(stub: StubUpstream):
    stub.reset()
    events = run(
        call(OpenAICompatibleProvider(allowed_hosts=LOOPBACK), endpoint(stub), {**BODY, "stream": True}, stream=True)
    )
    assert all(e.endswith(b"\n\n") for e in events) and events[-1] == b"data: [DONE]\n\n"
    assert REPLY[:4] in b"".join(events).decode("utf-8")


def test_azure_form(stub: StubUpstream):
    stub.reset()
    ep = EndpointConfig(
        id=1,
        name="n",
        provider="azure-openai",
        base_url=f"http://127.0.0.1:{stub.port}",
        upstream_model="gpt4o-dep",
        api_key="az-key",
        api_version="2024-10-21",
    )
    answer = run(call(AzureOpenAIProvider(allowed_hosts=LOOPBACK), ep, BODY))
    assert answer["choices"][0]["message"]["content"] == REPLY
    seen = stub.requests[-1]
    assert seen.path == "/openai/deployments/gpt4o-dep/chat/completions?api-version=2024-10-21"
    assert seen.headers["api-key"] == "az-key" and "authorization" not in seen.headers


def test_loopback_upstream_is_refused_unless_allow_listed(stub: StubUpstream):
    stub.reset()
    with pytest.raises(UpstreamError) as raised:
        run(call(OpenAICompatibleProvider(), endpoint(stub), BODY))
    assert raised.value.code == "upstream_address_refused" and not raised.value.retry_same
    assert stub.requests == []


def fixed_resolver(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def named_endpoint(stub: StubUpstream) -> EndpointConfig:
    return EndpointConfig(
        id=1, name="n", provider="openai", base_url=f"http://upstream.invalid:{stub.port}/v1", upstream_model="up"
    )


def test_connection_goes_to_the_address_the_guard_checked(stub: StubUpstream):
    stub.reset()
    guard = OutboundClient(allowed_hosts=["upstream.invalid"], resolver=fixed_resolver("127.0.0.1"))
    answer = run(call(OpenAICompatibleProvider(guard=guard), named_endpoint(stub), BODY))
    assert answer["choices"][0]["message"]["content"] == REPLY
    assert stub.requests[-1].headers["host"] == f"upstream.invalid:{stub.port}"


@pytest.mark.parametrize(
    ("allowed", "address"), [((), "10.1.2.3"), ((), "127.0.0.1"), (("upstream.invalid",), "169.254.169.254")]
)
def test_a_name_resolving_inside_is_refused(stub: StubUpstream, allowed, address):
    stub.reset()
    guard = OutboundClient(allowed_hosts=allowed, resolver=fixed_resolver("93.184.216.34", address))
    for stream in (False, True):
        with pytest.raises(UpstreamError) as raised:
            run(call(OpenAICompatibleProvider(guard=guard), named_endpoint(stub), {**BODY, "stream": stream}, stream))
        assert raised.value.code == "upstream_address_refused"
    assert stub.requests == []


def test_stream_cut_mid_event_and_abandoned_stream_close_the_connection(stub: StubUpstream):
    stub.reset()
    stub.plan("truncated_sse", "slow_sse")
    events = run(call(OpenAICompatibleProvider(allowed_hosts=LOOPBACK), endpoint(stub), {**BODY, "stream": True}, True))
    assert events[-1] != b"data: [DONE]\n\n"

    async def first_then_leave() -> None:
        provider = OpenAICompatibleProvider(allowed_hosts=LOOPBACK)
        stream = provider.stream_chat(endpoint(stub), {**BODY, "stream": True}, caller="t")
        assert (await anext(stream)).startswith(b"data: ")
        await stream.aclose()
        await provider.aclose()
        for _ in range(100):
            if stub.requests[-1].client_closed:
                return
            await asyncio.sleep(0.05)

    run(first_then_leave())
    assert stub.requests[-1].client_closed and not stub.requests[-1].finished
