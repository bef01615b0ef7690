"""When the audit record cannot be written (the disk is full), the call fails with a clear
Japanese error instead of going unaudited — through the real gateway hooks and ledger."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint

from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.spine.audit import AuditUnavailable
from hiraga.spine.call import CallOutcome, ModelCall, Outcome
from hiraga.store.database import Database
from hiraga.usage.hooks import build_hooks

PRINCIPAL = Principal(user_id=7, email="hanako@example.jp", display_name="花子", via="api_key", api_key_id=3)


def fill_the_disk(database: Database) -> None:
    """Every insert into audit_records fails as a full disk would."""
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "sqlite":
            connection.execute(
                sa.text(
                    "CREATE TRIGGER disk_full BEFORE INSERT ON audit_records "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )
            return
        connection.execute(
            sa.text(
                "CREATE OR REPLACE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            sa.text("CREATE TRIGGER disk_full BEFORE INSERT ON audit_records EXECUTE FUNCTION disk_full()")
        )


def clear_the_disk(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "DROP TRIGGER disk_full" + ("" if database.engine.dialect.name == "sqlite" else " ON audit_records")
            )
        )


def test_a_full_disk_fails_the_call_closed(settings: Settings, database: Database) -> None:
    fill_the_disk(database)
    call = ModelCall(principal=PRINCIPAL, kind="chat", requested_model="default", team_id=5)

    async def scenario() -> None:
        hooks = build_hooks(settings, database)
        try:
            with pytest.raises(AuditUnavailable) as failed:
                await hooks.record(call, CallOutcome(Outcome.OK))
            assert failed.value.status == 503 and failed.value.code == "audit_unavailable"
            assert "監査記録を書き込めなかった" in failed.value.message
        finally:
            await hooks.close()

    try:
        asyncio.run(scenario())
        with database.engine.connect() as connection:  # the usage row went down with it: nothing half-written
            used = connection.execute(sa.text("SELECT count(*) FROM usage_records")).scalar_one()
        assert used == 0
    finally:
        clear_the_disk(database)


def test_a_full_disk_fails_a_chat_completion_with_a_clear_error(
    client: TestClient, database: Database, world: World, stub: StubUpstream
) -> None:
    add_endpoint(client, world, "stub", stub.base_url)
    fill_the_disk(database)
    try:
        body = {"model": "stub", "messages": [{"role": "user", "content": "こんにちは"}]}
        response = client.post("/v1/chat/completions", json=body, headers=World.auth(world.alice_key))
    finally:
        clear_the_disk(database)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "audit_unavailable"
    assert "監査記録を書き込めなかったため" in error["message"]
