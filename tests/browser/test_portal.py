"""The portal in a real browser against a real ``hiraga serve`` answering with the EMBEDDED model
(answers kept short): login → chat → streamed answer → feedback; each task app end to end; a
builder app made by a team admin, visible to its team and invisible to another; axe-core on every
main page (0 serious/critical violations), at 375 px and at 200 % zoom. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_first_run
from playwright.sync_api import Browser, Page, expect
from test_apps import PASSWORD, seed_people
from test_first_run import Server, start_server

from model_cache import MODEL_CACHE_DIR

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.model]
browser = test_first_run.browser  # the shared fixture
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BUILTIN = "hiraga-embedded-qwen2.5-coder-0.5b"
ANSWER_WAIT = 180_000  # ms: the small model on a few CPU cores
MAIN_PAGES = ["/", "/chat", "/catalogue", "/tasks/summarise", "/tasks/proofread", "/builder", "/bots"]


@pytest.fixture
def server(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    model_dir = str(MODEL_CACHE_DIR)
    monkeypatch.setenv("HIRAGA_EMBEDDED_MODEL_DIR", model_dir)
    monkeypatch.setenv("HIRAGA_EMBEDDED_CONTEXT", "2048")
    monkeypatch.setenv("HIRAGA_PORTAL_MAX_OUTPUT_TOKENS", "16")
    yield from start_server(tmp_path, database_url)


def log_in(chromium: Browser, base_url: str, email: str, **context: Any) -> Page:
    page = chromium.new_context(locale="ja-JP", **context).new_page()
    page.set_default_navigation_timeout(ANSWER_WAIT)  # a task app's answer comes with the next page
    page.goto(f"{base_url}/login")
    page.get_by_role("textbox", name="メールアドレス", exact=True).fill(email)
    page.get_by_role("textbox", name="パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム", exact=True)).to_be_visible()
    return page


def start_conversation(page: Page) -> None:
    page.get_by_role("link", name="チャット", exact=True).first.click()
    expect(page.get_by_label("モデル")).to_have_value("default")
    expect(page.locator(".builtin-note").first).to_contain_text("小型モデル")
    page.get_by_label("機密性").select_option("2")
    page.get_by_role("button", name="会話を始める").click()
    expect(page.get_by_role("heading", name="新しい会話")).to_be_visible()


def test_chat_streams_an_answer_from_the_embedded_model_and_takes_feedback(server: Server, browser: Browser):
    page = log_in(browser, server.base_url, "member@city.example.jp")
    start_conversation(page)
    composer = page.get_by_label("質問・依頼")
    composer.focus()
    page.keyboard.type("日本の首都はどこですか？")
    page.keyboard.press("Control+Enter")  # keyboard only
    expect(page.get_by_role("button", name="生成を停止")).to_be_visible()
    latest = page.locator("#messages > li").last
    expect(latest.locator(".model-name")).to_contain_text(BUILTIN, timeout=ANSWER_WAIT)
    expect(page.get_by_role("button", name="生成を停止")).to_be_hidden(timeout=ANSWER_WAIT)
    answer = page.locator("#messages > li.msg--assistant").last
    expect(answer.locator(".answer")).not_to_be_empty()
    expect(answer.locator(".builtin-note")).to_contain_text("小型モデル")
    assert float(page.locator("html").get_attribute("data-first-token-ms") or "nan") > 0
    expect(page.locator("#messages > li.msg--user")).to_contain_text("日本の首都はどこですか？")

    answer.get_by_text("この回答を評価する").click()
    answer.get_by_label("👍 良い回答").check()
    answer.get_by_label("コメント（任意）").fill("分かりやすい")
    answer.get_by_role("button", name="評価を送る").click()
    expect(page.get_by_role("status").first).to_contain_text("評価を保存しました")
    page.reload()  # the history survives: it is in the database
    expect(page.locator("#messages > li.msg--assistant .model-name")).to_contain_text(BUILTIN)
    expect(page.locator("details.feedback summary")).to_contain_text("評価済み")


TASKS = [
    ("文章生成", {"目的・伝えたいこと": "図書館の休館日のお知らせ"}),
    ("要約（数字・日付の確認つき）", {"要約する文章": "令和6年4月1日から、住民票の写しの手数料を300円に改定します。"}),
    ("校正", {"校正する文章": "会議は午後３時から始めまする。"}),
    ("翻訳", {"翻訳する文章": "図書館は月曜日が休館日です。"}),
]


def test_each_task_app_end_to_end(server: Server, browser: Browser) -> None:
    page = log_in(browser, server.base_url, "member@city.example.jp")
    for title, fields in TASKS:
        page.goto(f"{server.base_url}/catalogue")
        page.get_by_role("link", name=title, exact=True).click()
        for label, value in fields.items():
            page.get_by_label(label).fill(value)
        page.get_by_role("button", name="実行").click(timeout=ANSWER_WAIT)
        result = page.locator("#result")
        expect(result).to_contain_text(BUILTIN, timeout=ANSWER_WAIT)
        expect(result.get_by_test_id("result-output")).not_to_be_empty()
    page.goto(server.base_url + "/")
    expect(page.get_by_role("heading", name="最近使ったアプリ")).to_be_visible()


def test_builder_app_is_visible_to_its_team_and_invisible_to_another(server: Server, browser: Browser) -> None:
    admin = log_in(browser, server.base_url, "admin@city.example.jp")
    admin.goto(f"{server.base_url}/builder")
    form = admin.get_by_role("region", name="新しいアプリを作る")
    form.get_by_label("アプリ名").fill("休館のお知らせ")
    form.get_by_label("プロンプトのひな形").fill("{{施設名}}が休館することを{{読み手:選択=住民|職員}}向けに一文で。")
    form.get_by_role("checkbox", name="企画課").check()
    form.get_by_role("button", name="作成して公開").click()
    expect(admin.get_by_role("status").first).to_contain_text("アプリを作成して公開しました")
    app_url = admin.url.split("?")[0]

    member = log_in(browser, server.base_url, "member@city.example.jp")
    member.get_by_role("link", name="休館のお知らせ").click()  # from the home catalogue
    member.get_by_label("施設名").fill("中央図書館")
    member.get_by_label("読み手").select_option("住民")
    member.get_by_role("button", name="実行").click(timeout=ANSWER_WAIT)
    expect(member.locator("#result")).to_contain_text(BUILTIN, timeout=ANSWER_WAIT)

    other = log_in(browser, server.base_url, "other@city.example.jp")
    expect(other.get_by_role("link", name="休館のお知らせ")).to_have_count(0)
    response = other.goto(app_url)
    assert response is not None and response.status == 404


def axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return [str(v) for v in found]


def fits_width(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_main_pages_are_accessible_narrow_and_zoomed(server: Server, browser: Browser) -> None:
    page = log_in(browser, server.base_url, "admin@city.example.jp", bypass_csp=True)  # CSP would block axe
    start_conversation(page)
    pages = [*MAIN_PAGES, re.sub(r"^https?://[^/]+", "", page.url)]
    problems: dict[str, list[str]] = {}
    for width, height in ((1280, 900), (375, 800), (640, 450)):  # desktop, a phone, 1280 px at 200 % zoom
        page.set_viewport_size({"width": width, "height": height})
        for path in pages:
            page.goto(server.base_url + path)
            found = axe_violations(page) if width == 1280 else []
            if not fits_width(page):
                found.append(f"horizontal scrolling at {width}px")
            if found:
                problems[f"{path} @ {width}px"] = found
    assert problems == {}
    page.emulate_media(reduced_motion="reduce")
    page.goto(server.base_url + pages[-1])
    motion = page.evaluate("() => matchMedia('(prefers-reduced-motion: reduce)').matches")
    assert motion is True
