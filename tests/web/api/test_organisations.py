from __future__ import annotations

from fastapi.testclient import TestClient

from hiraga.store.database import Database

from .world import World, snapshot


def test_system_admin_creates_and_reads_an_organisation(client: TestClient, world: World) -> None:
    headers = world.headers("system_admin")
    created = client.post("/api/v1/organisations", json={"name": "  デジタル庁 "}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "デジタル庁"
    fetched = client.get(f"/api/v1/organisations/{body['id']}", headers=headers)
    assert fetched.json() == body
    names = [o["name"] for o in client.get("/api/v1/organisations", headers=headers).json()]
    assert names == ["A市", "B県", "デジタル庁"]


def test_member_sees_only_the_organisation_of_their_team(client: TestClient, world: World) -> None:
    listed = client.get("/api/v1/organisations", headers=world.headers("member")).json()
    assert [o["id"] for o in listed] == [world.organisation["own"]]


def test_duplicate_and_empty_names_are_refused_and_change_nothing(
    client: TestClient, world: World, database: Database
) -> None:
    headers = world.headers("system_admin")
    before = snapshot(database)
    duplicate = client.post("/api/v1/organisations", json={"name": "A市"}, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict"
    assert "既に" in duplicate.json()["error"]["message"]
    empty = client.post("/api/v1/organisations", json={"name": "   "}, headers=headers)
    assert empty.status_code == 400
    assert empty.json()["error"]["detail"] == {"field": "name"}
    assert snapshot(database) == before


def test_unknown_organisation_is_not_found(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/organisations/999999", headers=world.headers("system_admin"))
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "指定された組織が見つかりません。",
        "detail": None,
    }
