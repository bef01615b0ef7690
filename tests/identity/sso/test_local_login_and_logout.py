"""Password login switched off except for break-glass system admins (API keys keep working), and logout:
audited, and sent on to the provider's end-session endpoint when the session came from single sign-on."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sso_support import OPERATOR, Org, audit, person, sign_in

from hiraga.app import create_app
from hiraga.identity import api_keys, directory
from hiraga.settings import Settings
from hiraga.store.database import Database
from oidc_provider import RunningProvider

PASSWORD = "Sakura-City-2025!"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match
    return match.group(1)


def password_login(client: TestClient, email: str) -> httpx.Response:
    token = csrf(client.get("/login").text)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False)


@pytest.fixture
def break_glass_client(settings: Settings, database: Database, tmp_path: Path) -> TestClient:
    with database.session() as db:
        for email, admin in [
            ("root@city.example.jp", True),
            ("clerk@city.example.jp", False),
            ("ops@city.example.jp", True),
        ]:
            directory.create_user(db, OPERATOR, email=email, password=PASSWORD, is_system_admin=admin)
    closed = settings.model_copy(
        update={
            "password_login": "break_glass",
            "break_glass_admins": ["root@city.example.jp", "clerk@city.example.jp"],
        }
    )
    return TestClient(create_app(closed))


def test_only_break_glass_admins_may_use_a_password(break_glass_client: TestClient, database: Database) -> None:
    with break_glass_client as client:
        page = client.get("/login").text
        assert "緊急用管理者のパスワードログイン" in page
        for email in ("clerk@city.example.jp", "ops@city.example.jp", "nobody@city.example.jp"):
            refused = password_login(client, email)  # listed but not an admin / an admin not listed / unknown
            assert refused.status_code == 403 and "パスワードでのログインは無効" in refused.text, email
        assert password_login(client, "root@city.example.jp").status_code == 303
    reasons = [(r["actor"], r["reason"]) for r in audit(database, "login_refused")]
    assert reasons == [
        ("clerk@city.example.jp", "password_login_disabled"),
        ("ops@city.example.jp", "password_login_disabled"),
        ("nobody@city.example.jp", "password_login_disabled"),
    ]


def test_api_keys_keep_working_when_passwords_are_off(break_glass_client: TestClient, database: Database) -> None:
    with database.session() as db:
        clerk = directory.find_user_by_email(db, "clerk@city.example.jp")
        key = api_keys.issue_key(db, OPERATOR.principal, clerk.id, "batch", 30).secret
    with break_glass_client as client:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_sso_logout_ends_the_provider_session_too(
    client: TestClient, database: Database, idp: RunningProvider, org: Org
) -> None:
    idp.set_user("hanako", person("hanako", ["企画"]))
    assert sign_in(client, idp, "hanako").status_code == 303
    token = csrf(client.get("/account").text)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 200
    url = re.search(r'<a href="([^"]+)">', response.text.split("<main", 1)[1])
    assert url is not None
    provider_logout = url.group(1).replace("&amp;", "&")
    assert provider_logout.startswith(f"{idp.issuer}/oauth2/end_session?")
    assert "id_token_hint=" in provider_logout and "post_logout_redirect_uri=" in provider_logout
    assert 'http-equiv="refresh"' in response.text
    assert client.get("/account", follow_redirects=False).status_code == 303  # the local session is over
    assert httpx.get(provider_logout, timeout=10).status_code == 200  # the provider accepts the hint
    [record] = audit(database, "logout")
    assert record["actor"] == "hanako@city.example.jp" and record["provider"] == "city" and record["provider_logout"]


def test_password_logout_is_audited_and_stays_local(client: TestClient, database: Database) -> None:
    with database.session() as db:
        directory.create_user(db, OPERATOR, email="root@city.example.jp", password=PASSWORD, is_system_admin=True)
    assert password_login(client, "root@city.example.jp").status_code == 303
    response = client.post("/logout", data={"csrf_token": csrf(client.get("/account").text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?notice=logged_out"
    [record] = audit(database, "logout")
    assert record["actor"] == "root@city.example.jp" and record["provider_logout"] is False
