"""Two real ``hiraga serve`` processes on one PostgreSQL database behave as one platform.

Both start at the same moment on a fresh database (so they also race to migrate it), each with its
own data directory and the same secret key. A session and an API key made through one work on the
other; a key revoked on one is refused by the other; SIGKILL in the middle of writes loses nothing
that was acknowledged, and the surviving process keeps serving."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.processes import ServeProcess, cli, start_serve, write_until_killed
from postgres_support import fresh_databases

pytestmark = pytest.mark.slow

SECRET = "scale-out-secret-" + uuid.uuid4().hex + uuid.uuid4().hex
PASSWORD = "Kasumigaseki-2026!"
EMAIL = "admin@ministry.example.jp"


@pytest.fixture
def fresh_database() -> Iterator[str]:
    with fresh_databases("hiraga_scale") as (url,):
        yield url


@pytest.fixture
def pair(fresh_database: str, tmp_path: Path) -> Iterator[tuple[ServeProcess, ServeProcess, dict[str, str]]]:
    env = {"HIRAGA_DATABASE_URL": fresh_database, "HIRAGA_SECRET_KEY": SECRET}
    a = start_serve(tmp_path / "a", env, tmp_path / "a.log")
    b = start_serve(tmp_path / "b", env, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b, env
    finally:
        a.stop()
        b.stop()


def login(process: ServeProcess) -> tuple[dict[str, str], str]:
    """Log in through the form; returns the cookies and the CSRF token."""
    page = httpx.get(process.url + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    cookies = dict(page.cookies)
    response = httpx.post(
        process.url + "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
        cookies=cookies,
    )
    assert response.status_code in (302, 303), response.text
    cookies |= dict(response.cookies)
    assert "hiraga_session" in cookies
    return cookies, token.group(1)


def test_two_processes_share_sessions_keys_and_survive_a_kill(
    pair: tuple[ServeProcess, ServeProcess, dict[str, str]], tmp_path: Path
) -> None:
    a, b, env = pair
    setup_urls = [p for p in (a, b) if "/setup?token=" in p.output()]
    assert setup_urls, "the first start on an empty database prints the setup URL"
    cli(env, tmp_path, "admin", "create-user", EMAIL, "--password-stdin", "--system-admin", stdin=PASSWORD + "\n")

    cookies, csrf_token = login(a)
    me_on_b = httpx.get(b.url + "/api/v1/me", cookies=cookies)
    assert me_on_b.status_code == 200, me_on_b.text
    assert (me_on_b.json()["user"]["email"], me_on_b.json()["authenticated_via"]) == (EMAIL, "session")

    session_post = {"cookies": cookies, "headers": {"x-csrf-token": csrf_token}}
    created = httpx.post(a.url + "/api/v1/me/keys", json={"name": "移行用"}, **session_post)  # type: ignore[arg-type]
    assert created.status_code == 201, created.text
    bearer = {"authorization": f"Bearer {created.json()['secret']}"}
    assert httpx.get(b.url + "/api/v1/me", headers=bearer).json()["authenticated_via"] == "api_key"

    revoked = httpx.delete(f"{b.url}/api/v1/me/keys/{created.json()['id']}", **session_post)  # type: ignore[arg-type]
    assert revoked.status_code == 204
    refused = httpx.get(a.url + "/api/v1/me", headers=bearer)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"

    working_key = {"authorization": "Bearer " + cli(env, tmp_path, "admin", "create-key", EMAIL).strip()}
    acknowledged = write_until_killed(a, working_key)
    assert len(acknowledged) >= 5
    names = {o["name"] for o in httpx.get(b.url + "/api/v1/organisations", headers=working_key).json()}
    assert acknowledged <= names, "an organisation acknowledged by the killed process is missing"
    after = httpx.post(b.url + "/api/v1/organisations", json={"name": "停止後の組織"}, headers=working_key)
    assert after.status_code == 201

    restarted = start_serve(tmp_path / "a", env, tmp_path / "a2.log")
    try:
        restarted.wait_ready()
        again = httpx.get(restarted.url + "/api/v1/organisations", headers=working_key).json()
        assert acknowledged | {"停止後の組織"} <= {o["name"] for o in again}
        assert "/setup?token=" not in restarted.output()
    finally:
        restarted.stop()
