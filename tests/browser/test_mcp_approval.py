"""Tools in chat, in a real browser against a real ``hiraga serve``: the system admin registers the sample
facility-booking MCP server on the admin page and the team admin enables its booking tool; a served
tool-calling model (the stub upstream) asks to book a room; the page shows the exact tool and
arguments; approved, the booking is made and the model goes on; rejected, the server is never called.
The 文章生成 task app's streamed run is held the same way and goes on once approved. Every step is in
the audit log. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import test_first_run
from playwright.sync_api import Browser, Page, expect
from test_apps import PASSWORD, ROOT, seed_people
from test_first_run import Server, start_server

from hiraga.audit import keys as audit_keys
from hiraga.identity import api_keys, directory
from hiraga.settings import load_settings
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "gateway", TESTS / "knowledge", TESTS / "mcp", TESTS.parent / "examples"):
    sys.path.insert(0, str(folder))

from mcp_facility_booking import Bookings  # noqa: E402
from mcp_facility_booking import build as build_facility  # noqa: E402
from mcp_support import Served, ToolCallingUpstream  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = test_first_run.browser  # the shared fixture
BOOK = "facility__book_room"
ROOT_EMAIL = "root@city.example.jp"
BOOKING = {"room": "大会議室", "date": "2026-12-10", "slot": "午前", "purpose": "防災訓練の説明会"}


@pytest.fixture
def upstream() -> Iterator[ToolCallingUpstream]:
    stub = ToolCallingUpstream()
    stub.start()
    yield stub


@pytest.fixture
def facility() -> Iterator[tuple[str, Bookings]]:
    bookings = Bookings()
    with Served(build_facility(bookings).streamable_http_app(json_response=True), lifespan="on") as base:
        yield base + "/mcp", bookings


@pytest.fixture
def server(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    monkeypatch.setenv("HIRAGA_ALLOWED_UPSTREAM_HOSTS", "127.0.0.1")
    yield from start_server(tmp_path, database_url)


def system_admin_key(database_url: str, data_dir: Path) -> str:
    """A system admin who can log in, and an API key of theirs (the model is registered by API)."""
    database = Database(database_url)
    audit_keys.bind(database.engine, load_settings(data_dir=data_dir, database_url=database_url))  # the server's key
    with database.session() as db:
        user = directory.create_user(db, ROOT, email=ROOT_EMAIL, password=PASSWORD, is_system_admin=True)
        secret = api_keys.issue_key(db, ROOT.principal, user.id, "setup", 1).secret
    database.dispose()
    return secret


def register_model(base_url: str, key: str, model_url: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as api:
        model = {"name": "tool-model", "provider": "openai", "base_url": model_url, "upstream_model": "stub"}
        assert api.post("/api/v1/models", json={**model, "all_teams": True, "clearance": 2}).status_code == 201


def register_server_in_the_browser(chromium: Browser, base_url: str, facility_url: str) -> None:
    """The system admin registers the sample server by form and fetches its tools (all effectful)."""
    page = log_in(chromium, base_url, ROOT_EMAIL)
    page.goto(f"{base_url}/admin/mcp")
    page.get_by_label("名前", exact=False).first.fill("facility")
    page.get_by_label("URL（Streamable HTTP）").fill(facility_url)
    page.get_by_label("クリアランス（このサーバーに渡してよい最高の機密性）").select_option("2")
    page.get_by_role("button", name="MCP サーバーを登録").click()
    expect(page.get_by_role("status")).to_contain_text("MCP サーバーを登録しました")
    page.get_by_role("link", name="facility").click()
    page.get_by_role("button", name="ツール一覧を取得").click()
    expect(page.get_by_role("status")).to_contain_text("ツール一覧を取得しました")
    expect(page.get_by_label(f"区分: {BOOK}")).to_have_value("effectful")  # nobody judged it: effectful
    page.context.close()


def enable_in_the_browser(chromium: Browser, base_url: str) -> None:
    """The planning team's admin turns the booking tool on for the team."""
    page = log_in(chromium, base_url, "admin@city.example.jp")
    page.goto(f"{base_url}/admin/mcp")
    row = page.get_by_role("table", name="企画課").get_by_role("row").filter(has_text=BOOK)
    row.get_by_role("button", name="有効にする").click()
    expect(page.get_by_role("status")).to_contain_text("ツールをチームで有効にしました")
    expect(row.get_by_role("button", name="無効にする")).to_be_visible()
    page.context.close()


def log_in(chromium: Browser, base_url: str, email: str = "member@city.example.jp") -> Page:
    page = chromium.new_context(locale="ja-JP").new_page()
    page.goto(f"{base_url}/login")
    page.get_by_role("textbox", name="メールアドレス", exact=True).fill(email)
    page.get_by_role("textbox", name="パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム", exact=True)).to_be_visible()
    return page


def ask(page: Page, text: str) -> None:
    page.get_by_label("質問・依頼").fill(text)
    page.get_by_role("button", name="送信").click()


def audit_actions(database_url: str) -> list[tuple[str, str]]:
    database = Database(database_url)
    with database.session() as db:
        rows = db.scalars(sa.select(AuditRecord).where(AuditRecord.source == "mcp").order_by(AuditRecord.id))
        found = [(r.action, r.outcome) for r in rows]
    database.dispose()
    return found


def test_the_user_approves_a_booking_in_the_browser_and_a_rejected_one_never_reaches_the_server(
    server: Server,
    browser: Browser,
    database_url: str,
    tmp_path: Path,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
) -> None:
    facility_url, bookings = facility
    register_model(server.base_url, system_admin_key(database_url, tmp_path / "data"), upstream.base_url)
    register_server_in_the_browser(browser, server.base_url, facility_url)
    enable_in_the_browser(browser, server.base_url)
    page = log_in(browser, server.base_url)
    page.goto(f"{server.base_url}/chat")
    page.get_by_label("モデル").select_option("tool-model")
    page.get_by_role("button", name="会話を始める").click()

    upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "大会議室を予約しました。"))
    ask(page, "12月10日の午前に大会議室を予約してください")
    calls = page.locator("#tool-calls")
    expect(calls).to_contain_text(BOOK)
    expect(calls).to_contain_text("承認待ち")
    expect(page.get_by_label("引数（JSON。直すときは「修正して実行」）")).to_have_value(
        json.dumps(BOOKING, ensure_ascii=False, indent=2)
    )
    assert bookings.entries == {}
    page.get_by_role("button", name="承認して実行").click()
    expect(page.locator("#messages")).to_contain_text("大会議室を予約しました。")
    expect(page.locator("#tool-calls")).to_contain_text("実行済み")
    expect(page.get_by_role("button", name="承認して実行")).to_have_count(0)
    assert [b["room"] for b in bookings.entries.values()] == ["大会議室"]

    upstream.plan(("call", [(BOOK, {**BOOKING, "slot": "午後"})]), ("say", "予約は取りやめました。"))
    ask(page, "午後も予約して")
    expect(page.locator("#tool-calls")).to_contain_text("承認待ち")
    page.get_by_role("button", name="却下").click()
    expect(page.locator("#messages")).to_contain_text("予約は取りやめました。")
    expect(page.locator("#tool-calls")).to_contain_text("却下しました")
    assert len(bookings.entries) == 1
    actions = audit_actions(database_url)
    assert ("mcp_tool_call", "ok") in actions and actions.count(("mcp_tool_decision", "ok")) == 2
    assert [a for a in actions if a[0] == "mcp_tool_call"] == [
        ("mcp_tool_call", "pending"),
        ("mcp_tool_call", "ok"),
        ("mcp_tool_call", "pending"),
    ]

    # 文章生成 may use tools too: its streamed run stops at the held call and goes on once approved
    upstream.plan(("call", [(BOOK, {**BOOKING, "slot": "夜間"})]), ("say", "夜間の大会議室を予約しました。"))
    page.goto(f"{server.base_url}/tasks/generate")
    page.get_by_label("目的・伝えたいこと").fill("夜間の説明会の会場を押さえて案内したい")
    page.get_by_label("モデル").select_option("tool-model")
    page.get_by_role("button", name="実行", exact=True).click()
    expect(page.locator("#tool-calls")).to_contain_text("承認待ち")
    assert len(bookings.entries) == 1
    page.get_by_role("button", name="承認して実行").click()
    expect(page.locator("#result")).to_contain_text("夜間の大会議室を予約しました。")
    expect(page.locator("#tool-calls")).to_contain_text("実行済み")
    assert len(bookings.entries) == 2
