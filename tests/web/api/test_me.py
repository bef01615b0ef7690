from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, tokens
from hiraga.store.database import Database
from hiraga.store.tables import ApiKey

from .world import World, snapshot


def test_who_am_i_names_teams_roles_and_credential(client: TestClient, world: World) -> None:
    me = client.get("/api/v1/me", headers=world.headers("team_admin"))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"]["email"] == "admin@a.example.jp"
    assert body["authenticated_via"] == "api_key"
    assert body["roles"] == ["team_admin", "member"]
    assert body["teams"] == [
        {
            "team_id": world.team["own"],
            "team_name": "企画課",
            "organisation_id": world.organisation["own"],
            "organisation_name": "A市",
            "role": "admin",
        }
    ]
    assert client.get("/api/v1/me", headers=world.headers("auditor")).json()["roles"] == ["auditor"]


def test_a_key_is_shown_once_works_and_stops_working_when_revoked(
    client: TestClient, world: World, database: Database
) -> None:
    created = client.post(
        "/api/v1/me/keys", json={"name": "スクリプト用", "expires_days": 7}, headers=world.headers("member")
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["secret"].startswith(key["prefix"]) and key["state"] == "active"
    with database.session() as db:
        row = db.get(ApiKey, key["id"])
        assert row is not None and row.digest == tokens.digest(key["secret"]) and key["secret"] not in row.digest
    listed = client.get("/api/v1/me/keys", headers=world.headers("member")).json()
    assert all("secret" not in k and "digest" not in k for k in listed)
    assert key["id"] in {k["id"] for k in listed}
    new_key = {"authorization": f"Bearer {key['secret']}"}
    me = client.get("/api/v1/me", headers=new_key).json()
    assert (me["authenticated_via"], me["api_key_id"]) == ("api_key", key["id"])
    assert client.delete(f"/api/v1/me/keys/{key['id']}", headers=world.headers("member")).status_code == 204
    refused = client.get("/api/v1/me", headers=new_key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    states = {k["id"]: k["state"] for k in client.get("/api/v1/me/keys", headers=world.headers("member")).json()}
    assert states[key["id"]] == "revoked"


def test_an_expired_key_is_refused(client: TestClient, world: World, database: Database) -> None:
    with database.session() as db:
        issued = api_keys.issue_key(db, CLI_OPERATOR, world.actors["member"].user_id, "old", 1)
        issued.row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    before = snapshot(database)
    response = client.post("/api/v1/me/keys", json={"name": "x"}, headers={"authorization": f"Bearer {issued.secret}"})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_api_key",
        "message": "API キーが無効です（存在しない・失効済み・期限切れのいずれか）。",
        "detail": None,
    }
    assert snapshot(database) == before


@pytest.mark.parametrize("authorization", ["Bearer hk-not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer "])
def test_bad_authorization_headers_are_refused_without_falling_back_to_the_cookie(
    client: TestClient, world: World, database: Database, authorization: str
) -> None:
    session = world.session_for(database, "system_admin")
    headers = {**world.csrf_headers(session), "authorization": authorization}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_key_requests_are_validated(client: TestClient, world: World, database: Database) -> None:
    headers = world.headers("member")
    before = snapshot(database)
    for body in ({"name": ""}, {"name": "x", "expires_days": 0}, {"name": "x", "expires_days": "7"}, {}):
        response = client.post("/api/v1/me/keys", json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_input"
    assert snapshot(database) == before


def test_cookie_sessions_need_the_csrf_token_for_changes(client: TestClient, world: World, database: Database) -> None:
    session = world.session_for(database, "member")
    with_csrf = world.csrf_headers(session)
    me = client.get("/api/v1/me", headers={"cookie": with_csrf["cookie"]})
    assert me.status_code == 200 and me.json()["authenticated_via"] == "session"
    before = snapshot(database)
    for headers in ({"cookie": with_csrf["cookie"]}, {**with_csrf, "x-csrf-token": "0" * 64}):
        refused = client.post("/api/v1/me/keys", json={"name": "x"}, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_rejected"
    assert snapshot(database) == before
    allowed = client.post("/api/v1/me/keys", json={"name": "x"}, headers=with_csrf)
    assert allowed.status_code == 201, allowed.text


def test_another_users_key_cannot_be_revoked(client: TestClient, world: World, database: Database) -> None:
    before = snapshot(database)
    response = client.delete(f"/api/v1/me/keys/{world.stranger.spare_key_id}", headers=world.headers("system_admin"))
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "指定された API キーが見つかりません。"
    assert snapshot(database) == before
