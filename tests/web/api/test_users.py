from __future__ import annotations

from fastapi.testclient import TestClient

from hiraga.identity.passwords import verify_password
from hiraga.store.database import Database
from hiraga.store.tables import User

from .world import World, snapshot

PASSWORD = "Kasumigaseki-2026"


def test_team_admin_creates_a_user_in_own_team(client: TestClient, world: World, database: Database) -> None:
    body = {
        "email": "New.Staff@A.example.jp",
        "password": PASSWORD,
        "display_name": "新人",
        "team_id": world.team["own"],
    }
    created = client.post("/api/v1/users", json=body, headers=world.headers("team_admin"))
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "new.staff@a.example.jp"
    assert "password" not in str(user) and "hash" not in str(user)
    members = client.get(f"/api/v1/teams/{world.team['own']}/members", headers=world.headers("team_admin")).json()
    assert user["id"] in {m["user_id"] for m in members}
    with database.session() as db:
        row = db.get(User, user["id"])
        assert row is not None and verify_password(row.password_hash, PASSWORD)


def test_team_admin_must_name_their_team(client: TestClient, world: World, database: Database) -> None:
    before = snapshot(database)
    response = client.post(
        "/api/v1/users", json={"email": "x@a.example.jp", "password": PASSWORD}, headers=world.headers("team_admin")
    )
    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"field": "team_id"}
    elevated = client.post(
        "/api/v1/users",
        headers=world.headers("team_admin"),
        json={"email": "x@a.example.jp", "password": PASSWORD, "team_id": world.team["own"], "is_system_admin": True},
    )
    assert elevated.status_code == 403
    assert snapshot(database) == before


def test_duplicate_email_and_weak_password_change_nothing(client: TestClient, world: World, database: Database) -> None:
    headers = world.headers("system_admin")
    before = snapshot(database)
    duplicate = client.post(
        "/api/v1/users", json={"email": "MEMBER@a.example.jp", "password": PASSWORD}, headers=headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["message"] == "このメールアドレスは既に登録されています。"
    weak = client.post("/api/v1/users", json={"email": "weak@a.example.jp", "password": "password"}, headers=headers)
    assert weak.status_code == 400
    assert weak.json()["error"]["code"] == "weak_password"
    assert "パスワード" in weak.json()["error"]["message"]
    bad_email = client.post("/api/v1/users", json={"email": "not-an-address", "password": PASSWORD}, headers=headers)
    assert bad_email.status_code == 400
    assert bad_email.json()["error"]["detail"] == {"field": "email"}
    assert snapshot(database) == before


def test_system_admin_changes_roles_and_deactivation_locks_the_user_out(client: TestClient, world: World) -> None:
    member = world.actors["member"]
    path = f"/api/v1/users/{member.user_id}"
    auditor = client.patch(path, json={"is_auditor": True}, headers=world.headers("system_admin"))
    assert auditor.status_code == 200
    assert (auditor.json()["is_auditor"], auditor.json()["is_active"]) == (True, True)
    assert "auditor" in client.get("/api/v1/me", headers=world.headers("member")).json()["roles"]
    off = client.patch(path, json={"is_active": False}, headers=world.headers("system_admin"))
    assert off.json()["is_active"] is False and off.json()["is_auditor"] is True
    locked_out = client.get("/api/v1/me", headers=world.headers("member"))
    assert locked_out.status_code == 401


def test_system_admin_cannot_demote_themselves(client: TestClient, world: World, database: Database) -> None:
    before = snapshot(database)
    me = world.actors["system_admin"].user_id
    response = client.patch(
        f"/api/v1/users/{me}", json={"is_system_admin": False}, headers=world.headers("system_admin")
    )
    assert response.status_code == 400
    assert snapshot(database) == before


def test_booleans_are_not_coerced(client: TestClient, world: World, database: Database) -> None:
    before = snapshot(database)
    response = client.patch(
        f"/api/v1/users/{world.colleague}", json={"is_active": "no"}, headers=world.headers("system_admin")
    )
    assert response.status_code == 400
    assert response.json()["error"]["detail"]["field"] == "is_active"
    assert snapshot(database) == before
