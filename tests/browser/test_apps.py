"""AI apps in a real browser against a real ``hiraga serve`` and the reference app (both real
processes): a team admin registers an app from a form definition and publishes it to the team, a
member of that team runs it with a file and downloads the artifact, a member of another team can
neither see nor open it. SQLite and PostgreSQL (the shared ``database_url`` fixture)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_first_run
from playwright.sync_api import Browser, Page, expect
from test_first_run import Server, start_server

from hiraga.audit import keys as audit_keys
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "apps"))
from app_world import ReferenceApp, start_reference_app

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
PASSWORD = "Sakura-City-2025"
ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))
DEFINITION = {
    "input_text": {"type": "textarea", "title": "依頼内容", "required": True},
    "doc": {"type": "file", "title": "資料ファイル", "accept": [".txt"], "max_size_mb": 1},
}


def seed_people(database_url: str, data_dir: Path) -> None:
    migrate.upgrade(database_url)
    database = Database(database_url)
    audit_keys.bind(database.engine, load_settings(data_dir=data_dir, database_url=database_url))  # the server's key
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "さくら市")
        planning = directory.create_team(db, ROOT, org.id, "企画課")
        finance = directory.create_team(db, ROOT, org.id, "財政課")
        for email, team, role in (
            ("admin@city.example.jp", planning.id, TeamRole.ADMIN),
            ("member@city.example.jp", planning.id, TeamRole.MEMBER),
            ("other@city.example.jp", finance.id, TeamRole.MEMBER),
        ):
            user = directory.create_user(db, ROOT, email=email, password=PASSWORD, display_name=email.split("@")[0])
            directory.set_membership(db, ROOT, team, user.id, role)
    database.dispose()


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[ReferenceApp]:
    yield from start_reference_app(tmp_path / "reference.log")


@pytest.fixture
def server(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    monkeypatch.setenv("HIRAGA_ALLOWED_UPSTREAM_HOSTS", "127.0.0.1")
    yield from start_server(tmp_path, database_url)


def log_in(chromium: Browser, base_url: str, email: str) -> Page:
    page = chromium.new_context(locale="ja-JP").new_page()
    page.goto(f"{base_url}/login")
    page.get_by_role("textbox", name="メールアドレス", exact=True).fill(email)
    page.get_by_role("textbox", name="パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム", exact=True)).to_be_visible()
    return page


def register_and_publish(page: Page, base_url: str, reference: ReferenceApp) -> None:
    page.goto(f"{base_url}/apps/new")
    page.get_by_label("アプリ名").fill("ファイル確認")
    page.get_by_label("URL 名（英小文字・数字・-）").fill("file-check")
    page.get_by_label("説明（Markdown: 使い方・入力例）").fill("**資料**を添付してください。<script>x</script>")
    page.get_by_label("アプリの URL").fill(reference.url("files"))
    page.get_by_label("アプリの API キー（暗号化して保存し、再表示しません）").fill(reference.key)
    page.get_by_label("フォーム定義（JSON）").fill('{"input_text": {"type": "slider", "title": "x"}}')
    page.get_by_role("checkbox", name="さくら市 / 企画課").check()
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("alert")).to_contain_text("種類「slider」は使えません")  # nothing registered
    page.get_by_label("アプリの API キー（暗号化して保存し、再表示しません）").fill(reference.key)
    page.get_by_label("フォーム定義（JSON）").fill(json.dumps(DEFINITION, ensure_ascii=False))
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("status").first).to_contain_text("アプリを登録しました")
    expect(page.locator(".app-description strong")).to_have_text("資料")
    page.get_by_role("button", name="公開する").click()
    expect(page.get_by_role("status").first).to_contain_text("アプリを公開しました")


def test_register_run_with_a_file_and_hide_from_other_teams(server: Server, browser: Browser, reference: ReferenceApp):
    admin = log_in(browser, server.base_url, "admin@city.example.jp")
    register_and_publish(admin, server.base_url, reference)

    member = log_in(browser, server.base_url, "member@city.example.jp")
    member.get_by_role("link", name="ファイル確認").click()  # from the home catalogue
    member.get_by_label("依頼内容").fill("添付の確認をお願いします")
    member.get_by_label("資料ファイル").set_input_files(
        files=[{"name": "memo<b>.txt", "mimeType": "text/plain", "buffer": "会議メモ".encode()}]
    )
    member.get_by_role("button", name="実行する").click()
    result = member.locator("#run-result")
    expect(result).to_contain_text("受け取ったファイル")
    expect(result).to_contain_text("doc: memo<b>.txt (12 bytes)")  # shown as text, not markup
    assert member.locator(".app-output b").count() == 0
    with member.expect_download() as download:
        member.get_by_role("link", name="echo-memo<b>.txt").click()
    assert Path(download.value.path()).read_bytes() == "会議メモ".encode()
    member.reload()
    expect(member.get_by_role("list").filter(has_text="成功").first).to_be_visible()  # the run is in history

    other = log_in(browser, server.base_url, "other@city.example.jp")
    expect(other.get_by_role("link", name="ファイル確認")).to_have_count(0)
    other.goto(f"{server.base_url}/apps")
    expect(other.get_by_role("link", name="ファイル確認")).to_have_count(0)
    response = other.goto(f"{server.base_url}/apps/file-check")
    assert response is not None and response.status == 404
