"""Malformed and oversized requests: the one error shape, a Japanese message, nothing changed."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hiraga.store.database import Database

from .world import World, snapshot


def test_malformed_json_is_refused(client: TestClient, world: World, database: Database) -> None:
    before = snapshot(database)
    headers = {**world.headers("system_admin"), "content-type": "application/json"}
    for raw in (b'{"name": "A', b"[1, 2]", b"", b'"just a string"'):
        response = client.post("/api/v1/organisations", content=raw, headers=headers)
        assert response.status_code == 400, raw
        error = response.json()["error"]
        assert set(error) == {"code", "message", "detail"}
        assert error["code"] == "invalid_input"
        assert error["message"].endswith("正しくありません。")
    broken = client.post("/api/v1/organisations", content=b'{"name": ', headers=headers)
    assert broken.json()["error"]["message"] == "JSON の形式が正しくありません。"
    assert snapshot(database) == before


def test_wrong_types_are_refused(client: TestClient, world: World, database: Database) -> None:
    before = snapshot(database)
    headers = world.headers("system_admin")
    response = client.post("/api/v1/teams", json={"organisation_id": "1", "name": "課"}, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "入力項目「organisation_id」の値が正しくありません。"
    response = client.post("/api/v1/organisations", json={"name": 42}, headers=headers)
    assert response.json()["error"]["detail"]["field"] == "name"
    assert snapshot(database) == before


def test_oversized_body_is_refused(client: TestClient, app: FastAPI, world: World, database: Database) -> None:
    before = snapshot(database)
    limit = app.state.ctx.settings.max_body_bytes
    body = b'{"name": "' + b"x" * limit + b'"}'
    response = client.post(
        "/api/v1/organisations",
        content=body,
        headers={**world.headers("system_admin"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert snapshot(database) == before


def test_wrong_method_and_unknown_route(client: TestClient, world: World) -> None:
    wrong = client.delete("/api/v1/organisations", headers=world.headers("system_admin"))
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    unknown = client.get("/api/v1/nothing", headers=world.headers("system_admin"))
    assert unknown.status_code == 404 and unknown.json()["error"]["message"]


def test_openapi_lists_every_route_with_a_japanese_summary(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200
    paths = client.get("/api/openapi.json").json()["paths"]
    operations = [(path, op) for path, item in paths.items() if path.startswith("/api/v1") for op in item.values()]
    assert len(operations) >= 17
    for path, operation in operations:
        summary = operation.get("summary", "")
        assert any("\u3040" <= ch <= "\u9fff" for ch in summary), (path, summary)
        assert "ErrorBody" in str(operation["responses"].get("403", {})), path
    user_schema = str(client.get("/api/openapi.json").json()["components"]["schemas"]["User"])
    assert "password" not in user_schema
