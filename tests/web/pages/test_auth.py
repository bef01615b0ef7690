from __future__ import annotations

import uvicorn
from fastapi.testclient import TestClient
from pages_support import PASSWORD, Directory, csrf_from, login
from sqlalchemy import func, select

from hiraga.app import create_app
from hiraga.cli.serve import PROXY_OPTIONS
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import ApiKey, WebSession


def test_pages_need_login_and_come_back_after_it(client: TestClient, people: Directory) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"
    token = csrf_from(client.get("/login?next=/account").text)
    response = client.post(
        "/login",
        data={"email": "amy@example.go.jp", "password": PASSWORD, "next": "/account", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"]
    assert "hiraga_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert f"Max-Age={12 * 3600}" in cookie
    assert "amy@example.go.jp" in client.get("/account").text


def test_login_refuses_to_redirect_off_site(client: TestClient, people: Directory) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        token = csrf_from(client.get("/login").text)
        response = client.post(
            "/login",
            data={"email": "amy@example.go.jp", "password": PASSWORD, "next": target, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", target


def test_wrong_password_is_shown_in_the_page_and_logs_nobody_in(client: TestClient, people: Directory) -> None:
    response = login(client, "amy@example.go.jp", "wrong-password-1")
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "メールアドレスまたはパスワードが正しくありません。" in response.text
    assert 'value="amy@example.go.jp"' in response.text  # the e-mail is kept, the password is not
    assert "hiraga_session" not in response.headers.get("set-cookie", "")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_repeated_failures_lock_the_account_with_429(client: TestClient, app, people: Directory) -> None:  # type: ignore[no-untyped-def]
    limit = app.state.ctx.settings.login_max_failures
    for _ in range(limit):
        assert login(client, "amy@example.go.jp", "wrong-password-1").status_code == 401
    response = login(client, "amy@example.go.jp")  # even the right password is refused now
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert 'role="alert"' in response.text
    assert "ログインの失敗が続いたため" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(client: TestClient, database: Database, people: Directory) -> None:
    assert login(client, "amy@example.go.jp").status_code == 303
    home = client.get("/")
    assert home.status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_from(home.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(WebSession)) == 0


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
    client: TestClient, database: Database, people: Directory
) -> None:
    response = client.post("/login", data={"email": "amy@example.go.jp", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_rejected"
    assert login(client, "amy@example.go.jp").status_code == 303
    response = client.post(
        "/account/keys", data={"name": "forged", "csrf_token": "0" * 64}, headers={"accept": "text/html"}
    )
    assert response.status_code == 403
    assert 'role="alert"' in response.text  # browsers get the error page
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_english_rendering_and_the_language_switch(client: TestClient, people: Directory) -> None:
    page = client.get("/login?lang=en").text
    assert '<html lang="en">' in page
    assert "Log in" in page and "E-mail address" in page and "ログイン" not in page
    assert '<html lang="ja">' in client.get("/login").text
    response = client.get("/language?to=en&next=/login", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "hiraga_lang=en" in response.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/login").text
    failed = login(client, "amy@example.go.jp", "wrong-password-1")
    assert "The e-mail address or the password is not correct." in failed.text


def _served(settings: Settings, **changes: object) -> TestClient:
    """The app as ``hiraga serve`` runs it (uvicorn's proxy options), reached from 127.0.0.1 — where
    a reverse proxy on the same machine, or an attacker on it, connects from."""
    app = create_app(settings.model_copy(update={"login_max_failures": 1, **changes}))
    config = uvicorn.Config(app, **PROXY_OPTIONS)
    config.load()
    return TestClient(config.loaded_app, client=("127.0.0.1", 40000))


def _fail_login(client: TestClient, n: int, forwarded_for: str) -> int:
    token = csrf_from(client.get("/login").text)
    data = {"email": f"nobody{n}@example.go.jp", "password": "wrong-password-1", "csrf_token": token}
    return client.post("/login", data=data, headers={"x-forwarded-for": forwarded_for}).status_code


def test_a_spoofed_forwarded_for_does_not_escape_the_address_lock(settings: Settings) -> None:
    with _served(settings) as client:  # no trusted proxies (the default): the header is ignored
        statuses = [_fail_login(client, n, f"198.51.100.{n}") for n in range(6)]
    assert statuses[:4] == [401] * 4  # an address may fail 4 × login_max_failures times
    assert statuses[4:] == [429, 429]


def test_behind_a_trusted_proxy_the_lock_follows_the_address_the_proxy_saw(settings: Settings) -> None:
    with _served(settings, trusted_proxies=["127.0.0.1/32"]) as client:
        statuses = [_fail_login(client, n, f"192.0.2.{n}, 203.0.113.9") for n in range(5)]
        other_client = _fail_login(client, 9, "203.0.113.10")
    assert statuses == [401, 401, 401, 401, 429]  # the spoofed left-hand hops are not believed
    assert other_client == 401  # another address the proxy forwards is not locked
