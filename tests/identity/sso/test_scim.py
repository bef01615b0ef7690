"""SCIM 2.0 provisioning: the endpoints checked by scim2-tester, deactivation that stops sessions and API
keys at once, groups that map to teams, and bad requests answered with SCIM errors (never a 500)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway_stub import ServerThread
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server
from sso_support import OPERATOR, Org, audit, free_port, memberships

from hiraga.app import create_app
from hiraga.identity import api_keys
from hiraga.identity.sso.scim import tokens as scim_tokens
from hiraga.identity.web_sessions import start_session
from hiraga.settings import Settings
from hiraga.store.database import Database

SCIM = "application/scim+json"
USER_SCHEMA = b"urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def scim_token(database: Database) -> str:
    with database.session() as db:
        return scim_tokens.issue(db, OPERATOR, "Entra ID").secret


@pytest.fixture
def scim(client: TestClient, scim_token: str) -> TestClient:
    client.headers.update({"Authorization": f"Bearer {scim_token}", "Content-Type": SCIM})
    return client


def test_scim2_tester_finds_no_error(settings: Settings, scim_token: str) -> None:
    port = free_port()
    app = create_app(settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"}))
    with (
        ServerThread(app, port) as base_url,
        httpx2.Client(
            base_url=f"{base_url}/scim/v2", headers={"Authorization": f"Bearer {scim_token}"}, timeout=30
        ) as http,
    ):
        client = SyncSCIMClient(http)
        client.discover()
        results = check_server(client, exclude_tags={"misc"})
    failed = [(r.title, r.reason, repr(r.data)[:500]) for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    assert not failed, failed
    assert sum(r.status is Status.SUCCESS for r in results) >= 20


def new_user(scim: TestClient, user_name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": f"ext-{user_name}",
        "name": {"familyName": "山田", "givenName": "花子"},
        "emails": [{"value": user_name, "primary": True, "type": "work"}],
        "active": True,
        **extra,
    }
    response = scim.post("/scim/v2/Users", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(SCIM)
    return dict(response.json())


def test_deactivation_stops_the_session_and_the_api_keys_at_once(
    scim: TestClient, app: FastAPI, database: Database
) -> None:
    created = new_user(scim, "hanako@city.example.jp")
    user_id = int(created["id"])
    with database.session() as db:
        session = start_session(db, user_id, 12)
        key = api_keys.issue_key(db, OPERATOR.principal, user_id, "作業用", 30).secret
    with TestClient(app) as browser:
        browser.cookies.set("hiraga_session", session)
        assert browser.get("/account").status_code == 200
        assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }
        response = scim.patch(f"/scim/v2/Users/{user_id}", json=patch)
        assert response.status_code == 204, response.text  # RFC 7644 §3.5.2: 204 when no attributes asked for
        assert scim.get(f"/scim/v2/Users/{user_id}").json()["active"] is False
        assert browser.get("/account", follow_redirects=False).status_code == 303  # back to the login page
        assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    [record] = audit(database, "scim_user_deactivated")
    assert record["actor"] == "scim:Entra ID" and record["api_keys_revoked"] == 1
    assert audit(database, "scim_user_created")[0]["user_name"] == "hanako@city.example.jp"


def test_groups_provisioned_by_scim_map_to_teams(scim: TestClient, database: Database, org: Org) -> None:
    user_id = new_user(scim, "taro@city.example.jp")["id"]
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "企画",
        "members": [{"value": user_id}],
    }
    group = scim.post("/scim/v2/Groups", json=body)
    assert group.status_code == 201, group.text
    assert memberships(database, "taro@city.example.jp") == {org.planning: "member"}
    assert scim.get(f"/scim/v2/Users/{user_id}").json()["groups"][0]["display"] == "企画"
    removal = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": f'members[value eq "{user_id}"]'}],
    }
    assert scim.patch(f"/scim/v2/Groups/{group.json()['id']}", json=removal).status_code == 204
    assert memberships(database, "taro@city.example.jp") == {}
    updates = audit(database, "scim_group_updated")
    assert updates[-1]["members_removed"] == [int(user_id)]
    assert audit(database, "sso_memberships_synced")[-1]["teams_removed"] == [org.planning]


def test_lookup_by_user_name_and_delete(scim: TestClient, database: Database) -> None:
    user_id = new_user(scim, "jiro@city.example.jp")["id"]
    found = scim.get("/scim/v2/Users", params={"filter": 'userName eq "jiro@city.example.jp"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user_id
    assert scim.delete(f"/scim/v2/Users/{user_id}").status_code == 204
    assert scim.get(f"/scim/v2/Users/{user_id}").status_code == 404
    assert audit(database, "scim_user_deleted")[0]["user_id"] == int(user_id)


def scim_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == str(status)
    return body


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "scim_type"),
    [
        ("GET", "/scim/v2/Users?filter=userName%20eq", None, 400, "invalidFilter"),
        ("GET", "/scim/v2/Users?filter=(((", None, 400, "invalidFilter"),
        ("POST", "/scim/v2/Users", b"{not json", 400, "invalidSyntax"),
        ("POST", "/scim/v2/Users", b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', 400, None),
        (
            "POST",
            "/scim/v2/Users",
            b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"}',
            400,
            None,
        ),
        ("PATCH", "/scim/v2/Users/999", b'{"Operations": 5}', 400, None),
        ("POST", "/scim/v2/Groups", b'{"displayName": "g", "externalId": "' + b"x" * 300 + b'"}', 400, None),
        ("GET", "/scim/v2/Users/999999999999999999999999", None, 404, None),
        ("GET", "/scim/v2/Users/abc", None, 404, None),
    ],
    ids=[
        "filter-unfinished",
        "filter-garbage",
        "body-not-json",
        "no-username",
        "no-email",
        "patch-bad",
        "long-external-id",
        "huge-id",
        "text-id",
    ],
)
def test_bad_requests_get_scim_errors(
    scim: TestClient, method: str, path: str, payload: bytes | None, status: int, scim_type: str | None
) -> None:
    body = scim_error(scim.request(method, path, content=payload), status)
    if scim_type:
        assert body["scimType"] == scim_type


def test_a_bad_token_is_refused_and_audited(client: TestClient, database: Database, scim_token: str) -> None:
    scim_error(client.get("/scim/v2/Users"), 401)
    scim_error(client.get("/scim/v2/Users", headers={"Authorization": "Bearer hs-wrong"}), 401)
    with database.session() as db:
        scim_tokens.revoke(db, OPERATOR, 1)
    scim_error(client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {scim_token}"}), 401)
    reasons = [r["reason"] for r in audit(database, "scim_refused")]
    assert reasons == ["no_token", "invalid_token", "invalid_token"]
    assert client.get("/scim/v2/ServiceProviderConfig").status_code == 200  # needs no token (RFC 7644)


def test_listing_pages_through_every_user_once(scim: TestClient) -> None:
    made = {new_user(scim, f"user{i}@city.example.jp")["id"] for i in range(5)}
    seen: list[str] = []
    for start in (1, 3, 5):
        page = scim.get("/scim/v2/Users", params={"startIndex": start, "count": 2}).json()
        assert page["totalResults"] == 5 and page["startIndex"] == start
        seen += [r["id"] for r in page["Resources"]]
    assert sorted(seen) == sorted(made) and len(seen) == 5
    only = scim.get("/scim/v2/Users", params={"filter": 'emails.value co "user3@"'}).json()
    assert only["totalResults"] == 1 and only["Resources"][0]["userName"] == "user3@city.example.jp"
