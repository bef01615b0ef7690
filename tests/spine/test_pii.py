"""PII through the real gateway: /v1 against a real HTTP stub upstream marked external or internal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint
from sqlalchemy import select

from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord

NAME, PHONE, EMAIL = "山田太郎", "090-1234-5678", "taro.yamada@example.jp"
TEXT = f"{NAME}様の電話番号は{PHONE}、メールは{EMAIL}です。折り返しご連絡ください。"
VALUES = (NAME, PHONE, EMAIL, "1234-5678")


def ask(client: TestClient, world: World, model: str, **extra: Any) -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": TEXT}], **extra}
    return client.post("/v1/chat/completions", headers=World.auth(world.alice_key), json=body)


def streamed_text(client: TestClient, world: World, model: str) -> tuple[str, list[str]]:
    body = {"model": model, "messages": [{"role": "user", "content": TEXT}], "stream": True}
    with client.stream("POST", "/v1/chat/completions", headers=World.auth(world.alice_key), json=body) as response:
        assert response.status_code == 200
        raw = b"".join(response.iter_bytes()).decode("utf-8")
    payloads = [line[len("data: ") :] for line in raw.split("\n\n") if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    deltas = [c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]]
    return "".join(deltas), deltas


def sent_upstream(stub: StubUpstream) -> str:
    return json.dumps([r.body for r in stub.chat_requests()], ensure_ascii=False)


def last_audit(database: Database) -> AuditRecord:
    with database.session() as db:
        row = db.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()
        db.expunge(row)
        return row


def assert_no_values(text: str) -> None:
    for value in VALUES:
        assert value not in text


def test_external_endpoint_gets_placeholders_and_the_user_gets_the_values(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "commercial", stub.base_url, external=True)
    stub.plan("echo")
    response = ask(client, world, "commercial")
    assert response.status_code == 200, response.text
    upstream = sent_upstream(stub)
    assert_no_values(upstream)
    assert "〔氏名1〕" in upstream and "〔電話番号1〕" in upstream and "〔メールアドレス1〕" in upstream
    assert response.json()["choices"][0]["message"]["content"] == TEXT  # the echo, restored
    record = last_audit(database)
    facts = json.loads(record.detail or "{}")
    assert record.outcome == "ok"
    assert facts["pii"] == {"policy": "mask", "counts": {"person_name": 1, "phone_number": 1, "email": 1}}
    assert_no_values(record.detail or "")


def test_streamed_answer_is_restored_across_chunk_boundaries(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "commercial", stub.base_url, external=True)
    stub.plan("echo")
    text, deltas = streamed_text(client, world, "commercial")
    assert text == TEXT
    assert not any("〔" in d or "〕" in d for d in deltas)  # no half placeholder ever reaches the user
    assert_no_values(sent_upstream(stub))
    facts = json.loads(last_audit(database).detail or "{}")
    assert facts["pii"]["counts"] == {"person_name": 1, "phone_number": 1, "email": 1}


def test_block_policy_refuses_naming_the_kinds_and_audits_counts_only(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "strict", stub.base_url, external=True, pii_policy="block")
    response = ask(client, world, "strict")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "pii_blocked"
    assert "電話番号" in error["message"] and "氏名" in error["message"]
    assert_no_values(response.text)
    assert stub.chat_requests() == []
    record = last_audit(database)
    assert (record.outcome, record.error_code) == ("refused", "pii_blocked")
    facts = json.loads(record.detail or "{}")
    assert facts["pii"] == {"policy": "block", "counts": {"person_name": 1, "phone_number": 1, "email": 1}}
    assert_no_values(record.detail or "")
    clean = client.post(
        "/v1/chat/completions",
        headers=World.auth(world.alice_key),
        json={"model": "strict", "messages": [{"role": "user", "content": "今日の予定を教えて"}]},
    )
    assert clean.status_code == 200  # nothing personal: block lets it through


def test_internal_endpoint_and_allow_policy_send_the_text_untouched(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "on-prem", stub.base_url, external=False)
    add_endpoint(client, world, "trusted", stub.base_url, external=True, pii_policy="allow")
    for model, audited in (("on-prem", None), ("trusted", {"policy": "allow", "counts": {}})):
        stub.reset()
        stub.plan("echo")
        response = ask(client, world, model)
        assert response.status_code == 200
        assert stub.chat_requests()[0].body["messages"][0]["content"] == TEXT
        assert response.json()["choices"][0]["message"]["content"] == TEXT
        assert json.loads(last_audit(database).detail or "{}").get("pii") == audited


def test_blocking_endpoint_is_skipped_for_a_masking_one_in_the_same_alias(
    client: TestClient, world: World, stub: StubUpstream
) -> None:
    add_endpoint(client, world, "strict", stub.base_url, external=True, pii_policy="block", upstream_model="strict-m")
    add_endpoint(client, world, "masker", stub.base_url, external=True, upstream_model="masker-m")
    members = [{"endpoint": "strict", "priority": 0}, {"endpoint": "masker", "priority": 1}]
    put = client.put("/api/v1/models/aliases/chain", json={"members": members}, headers=World.auth(world.admin_key))
    assert put.status_code == 200, put.text
    stub.plan("echo")
    response = ask(client, world, "chain")
    assert response.status_code == 200, response.text
    assert [r.body["model"] for r in stub.chat_requests()] == ["masker-m"]
    assert_no_values(sent_upstream(stub))
    assert response.json()["choices"][0]["message"]["content"] == TEXT


@pytest.mark.parametrize("stream", [False, True])
def test_fallback_applies_the_policy_of_the_endpoint_actually_used(
    client: TestClient, world: World, stub: StubUpstream, database: Database, stream: bool
) -> None:
    add_endpoint(client, world, "cloud", stub.base_url, external=True, upstream_model="cloud-m")
    add_endpoint(client, world, "local", stub.base_url, external=False, upstream_model="local-m")
    members = [{"endpoint": "cloud", "priority": 0}, {"endpoint": "local", "priority": 1}]
    client.put("/api/v1/models/aliases/chain", json={"members": members}, headers=World.auth(world.admin_key))
    stub.plan(("status", 500), ("status", 500), "echo")  # the cloud fails twice, the local one answers
    if stream:
        text, _ = streamed_text(client, world, "chain")
    else:
        response = ask(client, world, "chain")
        assert response.status_code == 200, response.text
        text = response.json()["choices"][0]["message"]["content"]
    seen = stub.chat_requests()
    assert [r.body["model"] for r in seen] == ["cloud-m", "cloud-m", "local-m"]
    for request in seen[:2]:
        assert_no_values(json.dumps(request.body, ensure_ascii=False))  # the external one never saw them
    assert seen[2].body["messages"][0]["content"] == TEXT  # the internal one gets the text as is
    assert text == TEXT
    record = last_audit(database)
    assert record.endpoint_name == "local" and "pii" not in json.loads(record.detail or "{}")


def test_an_external_reranker_reads_placeholders_in_the_query_and_the_documents(
    client: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    add_endpoint(client, world, "commercial-rerank", stub.base_url, kind="rerank", external=True)
    body = {"model": "commercial-rerank", "query": f"{NAME}様の連絡先", "documents": [TEXT, "無関係な文書です。"]}
    response = client.post("/v1/rerank", headers=World.auth(world.alice_key), json=body)
    assert response.status_code == 200, response.text
    [seen] = [r.body for r in stub.requests if r.path.endswith("/rerank")]
    sent = json.dumps(seen, ensure_ascii=False)
    assert_no_values(sent)
    assert seen is not None and seen["query"].startswith("〔氏名1〕")
    assert "〔氏名1〕様の電話番号" in seen["documents"][0]
    assert [r["index"] for r in response.json()["results"]] == [0, 1]  # scores refer to the documents as sent
    facts = json.loads(last_audit(database).detail or "{}")
    assert facts["pii"]["counts"] == {"person_name": 2, "phone_number": 1, "email": 1}
