"""公用文チェック in a real browser against a real ``hiraga serve``: log in, open the check from the
header navigation, paste a text with known deviations, submit, and see them marked in the text
and listed in the table. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import test_first_run
from playwright.sync_api import Browser, expect
from test_apps import PASSWORD, seed_people
from test_first_run import Server, start_server

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
# full-width digits, 並びに without 及び, and ですます mixed with である
SEEDED = "２０２４年度の計画並びに予算について説明します。\n会議は毎月開催する。<b>太字</b>"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    yield from start_server(tmp_path, database_url)


def test_check_from_the_header_nav_marks_and_lists_the_deviations(server: Server, browser: Browser) -> None:
    page = browser.new_context(locale="ja-JP").new_page()
    page.goto(f"{server.base_url}/login")
    page.get_by_role("textbox", name="メールアドレス", exact=True).fill("member@city.example.jp")
    page.get_by_role("textbox", name="パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム", exact=True)).to_be_visible()

    menu = page.get_by_role("navigation", name="メインメニュー")
    menu.get_by_role("link", name="公用文チェック").click()
    expect(page.get_by_role("heading", name="公用文チェック", level=1)).to_be_visible()
    expect(menu.get_by_role("link", name="公用文チェック")).to_have_attribute("aria-current", "page")

    page.get_by_label("チェックする文章").fill(SEEDED)
    page.get_by_role("button", name="チェックする").click()

    expect(page.get_by_role("heading", name="チェック結果")).to_be_visible()
    marked = page.get_by_test_id("marked-text")
    for flagged in ("２０２４", "並びに"):
        expect(marked.locator("mark", has_text=flagged)).to_be_visible()
    expect(marked).to_contain_text("<b>太字</b>")  # shown as text, never as markup
    expect(marked.locator("b")).to_have_count(0)
    table = page.get_by_role("table")
    for rule_id in ("digits.full_width", "conjunction.level", "style.mixed"):
        expect(table.locator("code", has_text=rule_id)).to_have_count(1)
    row = table.get_by_role("row").filter(has_text="digits.full_width")
    expect(row).to_contain_text("2024")  # the suggested fix
    number = row.get_by_role("rowheader").inner_text()
    marked.get_by_role("link", name=f"指摘 {number}").click()
    assert page.url.endswith(f"#finding-{number}")
    expect(page.get_by_label("チェックする文章")).to_have_value(SEEDED)
    page.close()
