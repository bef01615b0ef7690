"""The model registry through /api/v1/models: validation, secrets at rest, aliases, built-ins."""

from __future__ import annotations

from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World, add_endpoint
from sqlalchemy import select

from hiraga.gateway.registry import BUILTIN_CHAT, ensure_builtin_endpoints
from hiraga.store.database import Database
from hiraga.store.tables import ModelEndpoint


def test_upstream_key_is_encrypted_at_rest_and_never_returned(
    client: TestClient, world: World, stub: StubUpstream, database: Database
):
    created = add_endpoint(client, world, "commercial", stub.base_url, api_key="sk-very-secret-123")
    assert created["has_api_key"] is True
    listed = client.get("/api/v1/models", headers=World.auth(world.admin_key))
    assert "sk-very-secret" not in listed.text and "api_key_encrypted" not in listed.text
    with database.session() as db:
        stored = db.scalar(select(ModelEndpoint.api_key_encrypted).where(ModelEndpoint.name == "commercial"))
    assert stored and "sk-very-secret" not in stored
    cleared = client.patch("/api/v1/models/commercial", json={"api_key": ""}, headers=World.auth(world.admin_key))
    assert cleared.json()["has_api_key"] is False


def test_bad_registrations_change_nothing(client: TestClient, world: World, stub: StubUpstream, database: Database):
    cases = [
        ({"name": "x", "provider": "openai", "base_url": "http://10.0.0.8/v1", "upstream_model": "m"}, "base_url"),
        ({"name": "x", "provider": "nope", "base_url": stub.base_url, "upstream_model": "m"}, "provider"),
        ({"name": "x", "provider": "openai", "base_url": "", "upstream_model": "m"}, "base_url"),
        (
            {"name": "x", "provider": "openai", "base_url": stub.base_url, "upstream_model": "m", "clearance": 4},
            "clearance",
        ),
        ({"name": "x", "provider": "embedded", "model_path": "/nonexistent.gguf"}, "model_path"),
        ({"name": "x", "base_url": stub.base_url, "upstream_model": "m", "team_ids": [999]}, "team_ids"),
    ]
    with database.session() as db:
        before = len(db.scalars(select(ModelEndpoint.id)).all())
    for body, field in cases:
        response = client.post("/api/v1/models", json=body, headers=World.auth(world.admin_key))
        assert response.status_code == 400, (body, response.text)
        assert field in str(response.json()["error"]["detail"]), response.text
    with database.session() as db:
        assert len(db.scalars(select(ModelEndpoint.id)).all()) == before
    dup = client.post(
        "/api/v1/models",
        headers=World.auth(world.admin_key),
        json={"name": BUILTIN_CHAT, "base_url": stub.base_url, "upstream_model": "m"},
    )
    assert dup.status_code == 409


def test_only_system_admins_manage_models(client: TestClient, world: World, stub: StubUpstream):
    body = {"name": "x", "base_url": stub.base_url, "upstream_model": "m"}
    assert client.post("/api/v1/models", json=body, headers=World.auth(world.alice_key)).status_code == 403
    assert client.get("/api/v1/models", headers=World.auth(world.alice_key)).status_code == 403


def test_removed_endpoint_disappears_and_builtins_are_not_resurrected(
    client: TestClient, world: World, database: Database
):
    admin = World.auth(world.admin_key)
    assert client.delete(f"/api/v1/models/{BUILTIN_CHAT}", headers=admin).status_code == 204
    models = {m["id"] for m in client.get("/v1/models", headers=World.auth(world.alice_key)).json()["data"]}
    assert BUILTIN_CHAT not in models and "default" not in models
    with database.session() as db:
        assert ensure_builtin_endpoints(db) is False
        assert db.scalar(select(ModelEndpoint).where(ModelEndpoint.name == BUILTIN_CHAT)) is None


def test_alias_chain_replaces_members(client: TestClient, world: World, stub: StubUpstream):
    admin = World.auth(world.admin_key)
    add_endpoint(client, world, "a", stub.base_url)
    add_endpoint(client, world, "b", stub.base_url, aliases=["team-default"])
    put = client.put(
        "/api/v1/models/aliases/team-default",
        headers=admin,
        json={"members": [{"endpoint": "a", "priority": 1}, {"endpoint": "b", "priority": 0}]},
    )
    assert [m["endpoint"] for m in put.json()["members"]] == ["b", "a"]
    clash = client.put("/api/v1/models/aliases/a", headers=admin, json={"members": [{"endpoint": "b"}]})
    assert clash.status_code == 409
    missing = client.put("/api/v1/models/aliases/x", headers=admin, json={"members": [{"endpoint": "zzz"}]})
    assert missing.status_code == 404
