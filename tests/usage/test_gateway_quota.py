"""End to end through HTTP: /v1/chat/completions against a real stub upstream, with limits set
through /api/v1/limits; the refused call gets 429 + Retry-After, and every call is audited."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from gateway_stub import COMPLETION_TOKENS, PROMPT_TOKENS, StubUpstream
from gateway_world import World, add_endpoint
from sqlalchemy import select

from hiraga.gateway.service import input_estimate
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, UsageRecord

MESSAGES = [{"role": "user", "content": "議事録を要約してください。"}]


def set_limit(client: TestClient, world: World, **body: object) -> None:
    body = {"scope": "team", "subject_id": world.team_a, **body}
    response = client.post("/api/v1/limits", json=body, headers=World.auth(world.admin_key))
    assert response.status_code == 201, response.text


def chat(client: TestClient, world: World, stream: bool = False) -> tuple[int, dict[str, str], str]:
    body = {"model": "stub", "messages": MESSAGES, "stream": stream, "max_tokens": 100}
    response = client.post("/v1/chat/completions", json=body, headers=World.auth(world.alice_key))
    return response.status_code, dict(response.headers), response.text


def test_rate_limit_refuses_with_429_and_every_call_is_audited(
    client: TestClient, database: Database, world: World, stub: StubUpstream
) -> None:
    add_endpoint(client, world, "stub", stub.base_url, price_input_per_1k=1.5, price_output_per_1k=3)
    set_limit(client, world, metric="requests", window="minute", amount=2)
    answers = [chat(client, world), chat(client, world, stream=True), chat(client, world)]
    assert [status for status, _, _ in answers] == [200, 200, 429]
    _, headers, text = answers[2]
    assert 1 <= int(headers["retry-after"]) <= 60
    assert "チーム「A課」の1分あたりのリクエスト数上限（2）に達しました" in text
    assert '"type":"rate_limit_exceeded"' in text.replace(" ", "")
    assert len(stub.chat_requests()) == 2  # the refused call never reached the upstream
    with database.session() as db:
        calls = select(AuditRecord).where(AuditRecord.action == "model_call")  # not the setup's security events
        audit = db.scalars(calls.order_by(AuditRecord.id)).all()
        usage = db.scalars(select(UsageRecord).order_by(UsageRecord.id)).all()
    assert [(a.outcome, a.error_code) for a in audit] == [("ok", None), ("ok", None), ("refused", "rate_limited")]
    assert {a.team_id for a in audit} == {world.team_a}
    assert [u.outcome for u in usage] == ["ok", "ok", "refused"]
    ok = usage[0]
    assert (ok.input_tokens, ok.output_tokens, ok.endpoint_name) == (PROMPT_TOKENS, COMPLETION_TOKENS, "stub")
    expected = (Decimal(PROMPT_TOKENS) * Decimal("1.5") + Decimal(COMPLETION_TOKENS) * 3) / 1000
    assert ok.cost_jpy == expected


def test_token_budget_counts_what_was_really_used(
    client: TestClient, database: Database, world: World, stub: StubUpstream
) -> None:
    add_endpoint(client, world, "stub", stub.base_url)
    used = PROMPT_TOKENS + COMPLETION_TOKENS
    reserved = input_estimate({"messages": MESSAGES}) + 100  # prompt estimate + max_tokens
    assert reserved > used  # so a budget counted by reservations would refuse earlier
    # after three calls 3 × used are spent; a fourth would need 3 × used + reserved: one too many
    set_limit(client, world, metric="tokens", window="day", amount=3 * used + reserved - 1)
    statuses = [chat(client, world)[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    with database.session() as db:
        rows = db.scalars(select(UsageRecord)).all()
    assert sum(u.input_tokens + u.output_tokens for u in rows) == 3 * used
