"""The official openai client, unmodified, against hiraga in a real uvicorn server; and the client's
disconnect cancelling the upstream call."""

from __future__ import annotations

import time

import httpx
import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway_stub import REPLY, ServerThread, StubUpstream
from gateway_world import World, add_endpoint

from hiraga.gateway.service import Gateway
from hiraga.spine.call import CallOutcome, ModelCall, Outcome

MESSAGES = [{"role": "user", "content": "天気を教えて"}]


@pytest.fixture
def served(app: FastAPI, client: TestClient, world: World, stub: StubUpstream):
    add_endpoint(client, world, "vllm", stub.base_url)
    add_endpoint(client, world, "embed", stub.base_url, kind="embeddings")
    with ServerThread(app) as base_url:
        yield base_url


def test_openai_client_json_stream_models_embeddings_and_errors(served: str, world: World):
    api = openai.OpenAI(base_url=served + "/v1", api_key=world.alice_key, max_retries=0)
    answer = api.chat.completions.create(model="vllm", messages=MESSAGES)
    assert answer.choices[0].message.content == REPLY
    assert answer.usage is not None and answer.usage.total_tokens > 0

    stream = api.chat.completions.create(
        model="vllm", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert chunks[-1].usage is not None

    assert "vllm" in {m.id for m in api.models.list()}
    vectors = api.embeddings.create(model="embed", input=["一", "二"])
    assert [round(v, 2) for v in vectors.data[1].embedding] == [0.25, -0.5, 1.0]

    with pytest.raises(openai.NotFoundError) as missing:
        api.chat.completions.create(model="nothing-here", messages=MESSAGES)
    assert "nothing-here" in str(missing.value)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=served + "/v1", api_key="hk-wrong", max_retries=0).models.list()


class Recorder:
    def __init__(self) -> None:
        self.recorded: list[CallOutcome] = []

    async def admit(self, call: ModelCall) -> None: ...

    async def settle(self, call: ModelCall, outcome: CallOutcome) -> None: ...

    async def record(self, call: ModelCall, outcome: CallOutcome) -> None:
        self.recorded.append(outcome)


def test_client_disconnect_cancels_the_upstream_stream(app: FastAPI, served: str, world: World, stub: StubUpstream):
    recorder = Recorder()
    gateway: Gateway = app.state.ctx.extras["gateway"]
    gateway._hooks = recorder
    stub.plan("slow_sse")
    body = {"model": "vllm", "messages": MESSAGES, "stream": True}
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST", served + "/v1/chat/completions", json=body, headers=World.auth(world.alice_key)
        ) as response,
    ):
        assert response.status_code == 200
        next(response.iter_bytes())  # the answer has started; now the user closes the tab
    deadline = time.monotonic() + 10
    while not (stub.requests and stub.requests[-1].client_closed) and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = stub.requests[-1]
    assert seen.client_closed and not seen.finished
    while not recorder.recorded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert recorder.recorded[0].outcome is Outcome.CANCELLED
