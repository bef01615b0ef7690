from __future__ import annotations

from fastapi.testclient import TestClient

from hiraga.store.database import Database

from .world import World, snapshot


def test_system_admin_creates_a_team_in_an_organisation(client: TestClient, world: World) -> None:
    headers = world.headers("system_admin")
    body = {"organisation_id": world.organisation["own"], "name": "情報政策課"}
    created = client.post("/api/v1/teams", json=body, headers=headers)
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["organisation_id"] == world.organisation["own"]
    assert client.get(f"/api/v1/teams/{team['id']}", headers=headers).json() == team
    again = client.post("/api/v1/teams", json=body, headers=headers)
    assert again.status_code == 409
    missing_org = client.post("/api/v1/teams", json={"organisation_id": 999999, "name": "x"}, headers=headers)
    assert missing_org.status_code == 404
    assert missing_org.json()["error"]["detail"] == {"field": "organisation_id"}


def test_team_admin_manages_members_of_own_team(client: TestClient, world: World) -> None:
    headers = world.headers("team_admin")
    team = world.team["own"]
    promoted = client.put(f"/api/v1/teams/{team}/members/{world.colleague}", json={"role": "admin"}, headers=headers)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "admin"
    assert promoted.json()["email"] == "colleague@a.example.jp"
    members = client.get(f"/api/v1/teams/{team}/members", headers=headers).json()
    assert {m["user_id"]: m["role"] for m in members}[world.colleague] == "admin"
    removed = client.delete(f"/api/v1/teams/{team}/members/{world.colleague}", headers=headers)
    assert removed.status_code == 204
    assert removed.content == b""
    members = client.get(f"/api/v1/teams/{team}/members", headers=headers).json()
    assert world.colleague not in {m["user_id"] for m in members}
    gone = client.delete(f"/api/v1/teams/{team}/members/{world.colleague}", headers=headers)
    assert gone.status_code == 404


def test_team_admin_cannot_pull_another_teams_user_into_own_team(
    client: TestClient, world: World, database: Database
) -> None:
    before = snapshot(database)
    path = f"/api/v1/teams/{world.team['own']}/members/{world.stranger.user_id}"
    response = client.put(path, json={"role": "member"}, headers=world.headers("team_admin"))
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "指定されたユーザーが見つかりません。"
    assert snapshot(database) == before


def test_bad_role_and_wrong_types_are_refused(client: TestClient, world: World, database: Database) -> None:
    headers = world.headers("system_admin")
    path = f"/api/v1/teams/{world.team['own']}/members/{world.colleague}"
    before = snapshot(database)
    for body in ({"role": "owner"}, {"role": 1}, {}, {"role": "admin", "extra": True}):
        response = client.put(path, json=body, headers=headers)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert "入力項目" in error["message"]
    not_an_id = client.get("/api/v1/teams/abc", headers=headers)
    assert not_an_id.status_code == 400
    assert not_an_id.json()["error"]["detail"]["field"] == "team_id"
    assert snapshot(database) == before
