"""/v1/chat/completions and /v1/models through the app, against a real HTTP stub upstream."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from gateway_stub import COMPLETION_TOKENS, PROMPT_TOKENS, REPLY, StubUpstream
from gateway_world import World, add_endpoint

from hiraga.gateway.registry import BUILTIN_CHAT, BUILTIN_EMBEDDINGS

MESSAGES = [{"role": "user", "content": "東京の天気は？"}]


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n\n") if line.startswith("data: ")]


def test_json_answer_relays_upstream_and_names_the_endpoint(client: TestClient, world: World, stub: StubUpstream):
    add_endpoint(client, world, "vllm-llmjp", stub.base_url, upstream_model="llm-jp-4", api_key="sk-upstream-1")
    response = client.post(
        "/v1/chat/completions",
        headers=World.auth(world.alice_key),
        json={"model": "vllm-llmjp", "messages": MESSAGES, "temperature": 0.2, "tools": []},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["choices"][0]["message"]["content"] == REPLY
    assert body["usage"]["prompt_tokens"] == PROMPT_TOKENS
    assert response.headers["x-hiraga-endpoint"] == "vllm-llmjp"
    seen = stub.chat_requests()[0]
    assert seen.body["model"] == "llm-jp-4"  # the upstream's own id, not the name users see
    assert seen.body["tools"] == [] and seen.body["temperature"] == 0.2  # unknown params pass through
    assert seen.headers["authorization"] == "Bearer sk-upstream-1"


@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_passes_frames_through_whole(client: TestClient, world: World, stub: StubUpstream, include_usage):
    add_endpoint(client, world, "vllm", stub.base_url)
    body = {"model": "vllm", "messages": MESSAGES, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    with client.stream("POST", "/v1/chat/completions", headers=World.auth(world.alice_key), json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes())
    payloads = sse_payloads(raw.decode("utf-8"))  # strict UTF-8: a split character would raise
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == REPLY
    usage_chunks = [c for c in chunks if c.get("usage")]
    assert len(usage_chunks) == (1 if include_usage else 0)
    if include_usage:
        assert usage_chunks[0]["usage"]["completion_tokens"] == COMPLETION_TOKENS
    # hiraga always asks the upstream for usage, to account for the call
    assert stub.chat_requests()[0].body["stream_options"] == {"include_usage": True}


def test_models_lists_only_what_the_callers_team_may_use(client: TestClient, world: World, stub: StubUpstream):
    add_endpoint(client, world, "team-a-only", stub.base_url, all_teams=False, team_ids=[world.team_a])
    ids = {
        w: {m["id"] for m in client.get("/v1/models", headers=World.auth(k)).json()["data"]}
        for w, k in (("alice", world.alice_key), ("bob", world.bob_key))
    }
    assert "team-a-only" in ids["alice"] and "team-a-only" not in ids["bob"]
    for seen in ids.values():  # the fresh-install defaults are there for everyone
        assert {BUILTIN_CHAT, BUILTIN_EMBEDDINGS, "default", "hiraga/auto"} <= seen
    denied = client.post(
        "/v1/chat/completions", headers=World.auth(world.bob_key), json={"model": "team-a-only", "messages": MESSAGES}
    )
    assert denied.status_code == 404
    assert denied.json()["error"]["code"] == "model_not_found"
    assert stub.chat_requests() == []


def test_unknown_model_is_404_in_openai_envelope(client: TestClient, world: World):
    response = client.post(
        "/v1/chat/completions",
        headers=World.auth(world.alice_key),
        json={"model": "no-such-model", "messages": MESSAGES},
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "not_found_error" and error["param"] == "model"
    assert "no-such-model" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "x", "messages": []}, "messages"),
        ({"model": "x", "messages": MESSAGES, "temperature": 3}, "temperature"),
        ({"model": "x", "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"messages": MESSAGES}, "model"),
    ],
)
def test_invalid_parameters_are_400_naming_the_field(client: TestClient, world: World, body, field):
    response = client.post("/v1/chat/completions", headers=World.auth(world.alice_key), json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == field and field in error["message"]


def test_malformed_json_and_missing_key(client: TestClient, world: World):
    bad = client.post(
        "/v1/chat/completions",
        headers={**World.auth(world.alice_key), "content-type": "application/json"},
        content=b"{not json",
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
    anonymous = client.post("/v1/chat/completions", json={"model": "default", "messages": MESSAGES})
    assert anonymous.status_code == 401
    wrong = client.get("/v1/models", headers={"Authorization": "Bearer hk-not-a-real-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"


def test_classification_above_clearance_is_403_naming_the_rule(client: TestClient, world: World, stub: StubUpstream):
    add_endpoint(client, world, "commercial", stub.base_url, clearance=1, external=True)
    for extra in ({"headers": {"X-Hiraga-Classification": "2"}}, {"metadata": {"classification": 3}}):
        headers = {**World.auth(world.alice_key), **extra.get("headers", {})}
        body = {
            "model": "commercial",
            "messages": MESSAGES,
            **({"metadata": extra["metadata"]} if "metadata" in extra else {}),
        }
        response = client.post("/v1/chat/completions", headers=headers, json=body)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "classification_not_cleared" and "クリアランス" in error["message"]
    assert stub.chat_requests() == []
    ok = client.post(
        "/v1/chat/completions",
        headers=World.auth(world.alice_key),
        json={"model": "commercial", "messages": MESSAGES, "metadata": {"classification": 1, "tag": "x"}},
    )
    assert ok.status_code == 200
    assert stub.chat_requests()[0].body["metadata"] == {"tag": "x"}  # hiraga's own field never leaves


def test_alias_skips_endpoints_not_cleared(client: TestClient, world: World, stub: StubUpstream):
    add_endpoint(client, world, "cloud", stub.base_url, clearance=1, upstream_model="cloud-model")
    add_endpoint(client, world, "onprem", stub.base_url, clearance=3, upstream_model="onprem-model")
    put = client.put(
        "/api/v1/models/aliases/smart",
        headers=World.auth(world.admin_key),
        json={"members": [{"endpoint": "cloud", "priority": 0}, {"endpoint": "onprem", "priority": 1}]},
    )
    assert put.status_code == 200, put.text
    for level, expected in (("1", "cloud-model"), ("3", "onprem-model")):
        response = client.post(
            "/v1/chat/completions",
            json={"model": "smart", "messages": MESSAGES},
            headers={**World.auth(world.alice_key), "X-Hiraga-Classification": level},
        )
        assert response.status_code == 200
        assert stub.chat_requests()[-1].body["model"] == expected


HUGE = 2**63  # fits orjson's 64-bit integers, not the signed 64 bits everything downstream holds


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/chat/completions", {"messages": MESSAGES, "max_tokens": HUGE}, "max_tokens"),
        ("/v1/chat/completions", {"messages": MESSAGES, "max_completion_tokens": HUGE}, "max_completion_tokens"),
        ("/v1/chat/completions", {"messages": MESSAGES, "seed": HUGE}, "seed"),
        ("/v1/chat/completions", {"messages": MESSAGES, "top_logprobs": HUGE}, "top_logprobs"),
        ("/v1/embeddings", {"input": "x", "dimensions": HUGE}, "dimensions"),
        ("/v1/embeddings", {"input": [HUGE]}, "input"),
        ("/v1/rerank", {"query": "q", "documents": ["d"], "top_n": HUGE}, "top_n"),
    ],
)
def test_integer_knobs_beyond_their_range_are_400_and_never_forwarded(
    client: TestClient, world: World, stub: StubUpstream, path: str, body: dict, field: str
):
    kind = path.removeprefix("/v1/").replace("chat/completions", "chat")
    add_endpoint(client, world, "bounded", stub.base_url, kind=kind)
    response = client.post(path, headers=World.auth(world.alice_key), json={"model": "bounded", **body})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and str(error["param"]).startswith(field)
    assert stub.requests == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_not_sent_as_json_is_415(client: TestClient, world: World, stub: StubUpstream, content_type):
    add_endpoint(client, world, "typed", stub.base_url)
    headers = {**World.auth(world.alice_key), **({"content-type": content_type} if content_type else {})}
    body = json.dumps({"model": "typed", "messages": MESSAGES}).encode()
    response = client.post("/v1/chat/completions", headers=headers, content=body)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type" and error["type"] == "invalid_request_error"
    assert stub.requests == []
    as_json = client.post(
        "/v1/chat/completions", headers={**headers, "content-type": "application/json; charset=utf-8"}, content=body
    )
    assert as_json.status_code == 200
