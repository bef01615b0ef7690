from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from pages_support import PASSWORD, Directory, csrf_from, login, post_form
from sqlalchemy import select

from hiraga.identity.passwords import verify_password
from hiraga.spine.authenticate import from_bearer
from hiraga.store.database import Database
from hiraga.store.tables import ApiKey, User

NEW_PASSWORD = "Sakura-no-hana-77"


def change_password(client: TestClient, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return post_form(
        client,
        "/account",
        "/account/password",
        {"current_password": current, "new_password": new, "new_password_confirm": confirm or new},
    )


def test_password_change_checks_the_current_one_and_the_policy(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("amy")
    wrong = change_password(client, "not-my-password", NEW_PASSWORD)
    assert wrong.status_code == 400
    assert 'role="alert"' in wrong.text and "現在のパスワードが正しくありません。" in wrong.text
    weak = change_password(client, PASSWORD, "aaaaaaaaaaaaaaaa")
    assert weak.status_code == 400 and 'aria-invalid="true"' in weak.text
    with database.session() as db:
        user = db.get(User, people.ids["amy"])
        assert user is not None and verify_password(user.password_hash, PASSWORD)


def test_password_change_ends_other_sessions_but_keeps_this_one(
    as_user: Callable[[str], TestClient], people: Directory
) -> None:
    client = as_user("amy")
    other = TestClient(client.app)
    assert login(other, "amy@example.go.jp").status_code == 303
    response = change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=password_changed"
    assert "パスワードを変更しました" in client.get(response.headers["location"]).text
    assert other.get("/", follow_redirects=False).status_code == 303  # the other browser is logged out
    fresh = TestClient(client.app)
    assert login(fresh, "amy@example.go.jp", PASSWORD).status_code == 401
    assert login(fresh, "amy@example.go.jp", NEW_PASSWORD).status_code == 303


def create_key(client: TestClient, name: str, days: str = "30", htmx: bool = False):  # type: ignore[no-untyped-def]
    headers = {"hx-request": "true"} if htmx else {}
    return post_form(client, "/account", "/account/keys", {"name": name, "expires_days": days}, headers=headers)


def shown_secret(html: str) -> str:
    match = re.search(r'value="(hk-[A-Za-z0-9_-]+)"', html)
    assert match, "the new key is not shown"
    return match.group(1)


def test_api_key_is_shown_once_and_works_as_bearer(as_user: Callable[[str], TestClient], people: Directory) -> None:
    client = as_user("amy")
    created = create_key(client, "要約スクリプト")
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    secret = shown_secret(created.text)
    account = client.get("/account").text
    assert secret not in account and "要約スクリプト" in account and secret[:11] in account
    me = TestClient(client.app).get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == "amy@example.go.jp"
    assert me.json()["authenticated_via"] == "api_key"


def test_htmx_gets_the_keys_section_and_revoking_stops_the_key(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("amy")
    created = create_key(client, "CI", htmx=True)
    assert created.status_code == 201
    assert created.text.lstrip().startswith('<section id="api-keys"') and "<html" not in created.text
    secret = shown_secret(created.text)
    with database.session() as db:
        key_id = db.scalar(select(ApiKey.id).where(ApiKey.name == "CI"))
        assert from_bearer(db, f"Bearer {secret}") is not None
    revoked = post_form(client, "/account", f"/account/keys/{key_id}/revoke", {}, headers={"hx-request": "true"})
    assert revoked.status_code == 200 and "失効済み" in revoked.text and "<html" not in revoked.text
    bearer = TestClient(client.app).get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert bearer.status_code == 401


def test_bad_key_input_changes_nothing(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("amy")
    for name, days in [("", "30"), ("ok", "abc"), ("ok", "0"), ("ok", "99999")]:
        response = create_key(client, name, days)
        assert response.status_code == 400, (name, days)
        assert 'role="alert"' in response.text and "hk-" not in response.text
    with database.session() as db:
        assert db.scalars(select(ApiKey)).all() == []


def test_nobody_revokes_another_users_key(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    client = as_user("amy")
    secret = shown_secret(create_key(client, "mine").text)
    with database.session() as db:
        key_id = db.scalar(select(ApiKey.id))
    other = TestClient(client.app)
    assert login(other, "bea@example.go.jp").status_code == 303
    page = other.get("/account")
    response = other.post(
        f"/account/keys/{key_id}/revoke", data={"csrf_token": csrf_from(page.text)}, headers={"accept": "text/html"}
    )
    assert response.status_code == 404
    with database.session() as db:
        assert from_bearer(db, f"Bearer {secret}") is not None
