"""``/v1/rerank`` through the spine: an endpoint of kind ``rerank`` (vLLM's Jina/Cohere shape), the
caller's classification against its clearance, usage recorded, and bad requests refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint
from sqlalchemy import select

from hiraga.store.database import Database
from hiraga.store.tables import UsageRecord

DOCUMENTS = ["行政手続法は処分の手続を定める。", "今日は晴れです。", "行政庁は審査基準を定める。"]


def rerank(client: TestClient, world: World, model: str = "reranker", **extra: object) -> Any:
    body = {"model": model, "query": "行政庁の審査基準", "documents": DOCUMENTS, **extra}
    return client.post("/v1/rerank", headers=World.auth(world.alice_key), json=body)


def test_rerank_relays_the_scores_and_records_usage(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "reranker", stub.base_url, kind="rerank", upstream_model="bge-reranker-v2-m3")
    response = rerank(client, world)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["index"] == 2  # the stub scores by shared characters
    [seen] = [r for r in stub.requests if r.path.endswith("/rerank")]
    assert seen.body is not None and seen.body["model"] == "bge-reranker-v2-m3"
    assert seen.body["documents"] == DOCUMENTS
    with database.session() as db:
        [record] = db.scalars(select(UsageRecord))
        assert (record.kind, record.endpoint_name, record.input_tokens, record.outcome) == (
            "rerank",
            "reranker",
            7,
            "ok",
        )


def test_a_chat_model_is_not_a_reranker_and_clearance_is_checked(
    client: TestClient, world: World, stub: StubUpstream
) -> None:
    add_endpoint(client, world, "chat-only", stub.base_url)
    wrong = rerank(client, world, "chat-only")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "model_kind_mismatch"
    add_endpoint(client, world, "outside", stub.base_url, kind="rerank", clearance=1, external=True)
    secret = rerank(client, world, "outside", metadata={"classification": 3})
    assert secret.status_code == 403
    assert secret.json()["error"]["code"] == "classification_not_cleared"
    assert not [r for r in stub.requests if r.path.endswith("/rerank")]


def test_bad_rerank_requests_are_400_naming_the_field(client: TestClient, world: World, stub: StubUpstream) -> None:
    add_endpoint(client, world, "reranker", stub.base_url, kind="rerank")
    for body, field in (
        ({"model": "reranker", "query": "", "documents": ["a"]}, "query"),
        ({"model": "reranker", "query": "q", "documents": []}, "documents"),
        ({"model": "reranker", "query": "q"}, "documents"),
    ):
        response = client.post("/v1/rerank", headers=World.auth(world.alice_key), json=body)
        assert response.status_code == 400, response.text
        assert field in response.text
    assert not stub.requests


def test_the_admins_connection_test_reranks_two_documents(client: TestClient, world: World, stub: StubUpstream) -> None:
    add_endpoint(client, world, "reranker", stub.base_url, kind="rerank")
    probe = client.post("/api/v1/models/reranker/test", headers=World.auth(world.admin_key)).json()
    assert probe["ok"] is True and probe["reply"].startswith("スコア: ")
    [seen] = [r.body for r in stub.requests if r.path.endswith("/rerank")]
    assert seen is not None and seen["query"] == "接続テスト" and len(seen["documents"]) == 2
    stub.plan(("status", 404))
    failed = client.post("/api/v1/models/reranker/test", headers=World.auth(world.admin_key)).json()
    assert failed["ok"] is False and failed["error"]
