"""Evaluation pages in a real browser against a real ``hiraga serve``: a team admin opens 評価 from
the header navigation, uploads a private test set with the file picker (a broken file first: the
error names the line), sees it listed under its run name, and opens the arena. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import test_first_run
from playwright.sync_api import Browser, expect
from test_apps import log_in, seed_people
from test_first_run import Server, start_server

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
GOOD = '{"prompt": "転入届の期限は？", "reference": "14日以内", "scorer": "contains"}\n'


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    yield from start_server(tmp_path, database_url)


def test_a_team_admin_uploads_a_private_set_and_opens_the_arena(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    page = log_in(browser, server.base_url, "admin@city.example.jp")
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="評価").click()
    expect(page.get_by_role("heading", name="行政実務適性評価", level=1)).to_be_visible()
    expect(page.get_by_text("完了した評価はまだありません。")).to_be_visible()

    page.get_by_role("link", name="非公開テストセット").click()
    broken, good = tmp_path / "broken.jsonl", tmp_path / "faq.jsonl"
    broken.write_text(GOOD + '{"prompt": "様式は？", "scorer": "bleu"}\n', encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    for path, name in ((broken, "壊れたセット"), (good, "窓口FAQ")):
        page.get_by_role("textbox", name="名前", exact=True).fill(name)
        page.get_by_label("機密性区分").select_option("2")
        page.get_by_label("ファイル").set_input_files(str(path))
        page.get_by_role("button", name="登録").click()
        if path == broken:
            expect(page.get_by_role("alert")).to_contain_text("2 行目")
    expect(page.get_by_role("status")).to_contain_text("テストセットを登録しました。")
    row = page.get_by_role("row").filter(has_text="窓口FAQ")
    expect(row).to_contain_text("set:")
    expect(page.get_by_role("row").filter(has_text="壊れたセット")).to_have_count(0)

    page.goto(f"{server.base_url}/eval/arena")
    expect(page.get_by_role("heading", name="アリーナ（匿名比較）", level=1)).to_be_visible()
    expect(page.get_by_text("アリーナが有効なチームに所属していません。")).to_be_visible()
    page.close()
