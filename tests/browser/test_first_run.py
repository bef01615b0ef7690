"""First run in a real browser against a real ``hiraga serve`` process: setup → logout → login →
home → account → API key (shown once, then used as a Bearer key); and login with JavaScript off.
The database comes from the shared ``database_url`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
POSTGRES_ADMIN_URL = os.environ.get("HIRAGA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
EMAIL = "admin@city.example.jp"
PASSWORD = "Sakura-City-2025"
HIRAGA = str(Path(sys.executable).parent / "hiraga")


@dataclass
class Server:
    base_url: str
    output: list[str]
    env: dict[str, str]

    def setup_url(self) -> str:
        for line in self.output:
            match = re.search(r"/setup\?token=([A-Za-z0-9_-]+)", line)
            if match:
                return f"{self.base_url}/setup?token={match.group(1)}"
        raise AssertionError("serve printed no setup URL:\n" + "\n".join(self.output))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HIRAGA_DATA_DIR": str(tmp_path / "data"),
        "HIRAGA_DATABASE_URL": database_url,
        "HIRAGA_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("HIRAGA_CONFIG", None)
    process = subprocess.Popen(
        [HIRAGA, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    try:
        wait_until_up(process, base_url, output)
        yield Server(base_url=base_url, output=output, env=env)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(process: subprocess.Popen[str], base_url: str, output: list[str]) -> None:
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    for _ in range(600):
        output.extend(line.rstrip() for line in process.stdout.readlines())
        if process.poll() is not None:
            raise AssertionError("hiraga serve exited:\n" + "\n".join(output))
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                output.extend(line.rstrip() for line in process.stdout.readlines())
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("hiraga serve did not become ready:\n" + "\n".join(output))


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    yield from start_server(tmp_path, database_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is needed for browser tests (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def field(page: Page, name: str) -> Locator:
    """A form field by its accessible name (its <label>), as a screen reader announces it."""
    return page.get_by_role("textbox", name=name, exact=True)


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    field(page, "メールアドレス").fill(EMAIL)
    field(page, "パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_first_run_setup_login_and_api_key(server: Server, browser: Browser) -> None:
    page = browser.new_page(locale="ja-JP")  # the page language follows the browser's
    page.goto(server.setup_url())
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    field(page, "メールアドレス").fill(EMAIL)
    field(page, "表示名").fill("情報政策課 管理者")
    field(page, "パスワード").fill(PASSWORD)
    field(page, "パスワード（確認）").fill(PASSWORD)
    field(page, "組織名（任意）").fill("さくら市")
    page.get_by_role("button", name="管理者を作成して始める").click()
    expect(page.get_by_role("status")).to_contain_text("セットアップが完了しました")

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("status")).to_contain_text("ログアウトしました")
    page.goto(server.setup_url())
    expect(page.get_by_role("alert")).to_contain_text("既に使用されています")

    log_in(page, server.base_url)
    expect(page.get_by_role("heading", name="ホーム", exact=True)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="本文へスキップ")).to_be_focused()

    page.get_by_role("link", name="アカウント").click()
    expect(page.get_by_role("heading", name="アカウント", exact=True)).to_be_visible()
    field(page, "キーの名前").fill("文書要約スクリプト")
    page.get_by_role("button", name="API キーを作成").click()
    new_key = page.get_by_test_id("new-api-key")
    expect(new_key).to_be_focused()  # focus moves to the key shown once, not lost in the swap
    secret = new_key.input_value()
    assert secret.startswith("hk-")
    assert page.url.endswith("/account")  # HTMX swapped the section in place

    page.reload()
    expect(page.get_by_role("cell", name="文書要約スクリプト", exact=True)).to_be_visible()
    assert secret not in page.content()  # shown once only

    me = httpx.get(f"{server.base_url}/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == EMAIL
    page.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_login_and_api_key_with_javascript_disabled(tmp_path: Path, database_url: str, browser: Browser) -> None:
    env = {**os.environ, "HIRAGA_DATA_DIR": str(tmp_path / "data"), "HIRAGA_DATABASE_URL": database_url}
    subprocess.run(
        [HIRAGA, "admin", "create-user", EMAIL, "--password-stdin", "--system-admin"],
        input=PASSWORD + "\n",
        env=env,
        text=True,
        check=True,
        capture_output=True,
    )
    for server in start_server(tmp_path, database_url):
        context = browser.new_context(java_script_enabled=False, locale="ja-JP")
        page = context.new_page()
        page.goto(f"{server.base_url}/account")
        assert "/login?next=%2Faccount" in page.url
        field(page, "メールアドレス").fill(EMAIL)
        field(page, "パスワード").fill("not-the-password")
        page.get_by_role("button", name="ログイン").click()
        expect(page.get_by_role("alert")).to_contain_text("メールアドレスまたはパスワードが正しくありません")
        field(page, "パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        expect(page.get_by_role("heading", name="アカウント", exact=True)).to_be_visible()
        field(page, "キーの名前").fill("no-js")
        page.get_by_role("button", name="API キーを作成").click()
        secret = page.get_by_test_id("new-api-key").input_value()
        me = httpx.get(f"{server.base_url}/api/v1/me", headers={"authorization": f"Bearer {secret}"})
        assert me.status_code == 200 and me.json()["user"]["email"] == EMAIL
        context.close()
