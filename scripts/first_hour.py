"""The first hour of a new hiraga, walked in Chromium against a fresh ``hiraga serve`` process, with
a screenshot after each step (``first-hour/NN-step.png``): setup with the first team → 「はじめに」 →
connect a model (a stub OpenAI-compatible server standing in for vLLM) and make it the default →
chat → 文章生成・要約・校正・翻訳 → a knowledge base with an upload and a cited answer → the example
app (examples/hiraga-app-minutes) and its CSV. Also checks that the header menu fits 1280 px.

Run it with ``./scripts/first-hour [--out DIR] [--skip-kb]``. ``walk`` is also called by
tests/browser/test_first_hour.py."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "gateway"))
from gateway_stub import StubUpstream  # noqa: E402  (an OpenAI-compatible server whose replies are scripted)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
HIRAGA = str(Path(sys.executable).parent / "hiraga")
EMAIL, PASSWORD = "admin@city.example.jp", "Sakura-City-2025"
PROOFREAD_TEXT = (
    "契約期間は3ヶ月とする。申請があつたときは、これを受理する。その外の事項は別に定める。"
    "会議は午後３時から始めまする。市長並びに副市長が出席する。"
)
KB_DOCUMENT = (
    "さくら市 窓口案内\n\n市民課の窓口の受付時間は、午前8時30分から午後5時15分までです。"
    "土曜日・日曜日・祝日は休みです。住民票の写しの手数料は1通300円です。\n"
)


@dataclass
class Walk:
    base_url: str
    stub: StubUpstream
    out: Path
    shots: list[Path] = field(default_factory=list)

    def shot(self, page: Page, name: str) -> None:
        path = self.out / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    def say(self, *replies: str) -> None:
        self.stub.scripts.extend(("say", reply) for reply in replies)


def field(page: Page, name: str) -> object:
    return page.get_by_role("textbox", name=name, exact=True)


def setup(walk: Walk, page: Page, setup_url: str) -> None:
    page.goto(setup_url)
    for name, value in (
        ("メールアドレス", EMAIL),
        ("表示名", "情報政策課 管理者"),
        ("パスワード", PASSWORD),
        ("パスワード（確認）", PASSWORD),
        ("組織名（任意）", "さくら市"),
        ("最初のチーム（課・室）の名前（任意）", "情報政策課"),
    ):
        field(page, name).fill(value)  # type: ignore[attr-defined]
    walk.shot(page, "setup")
    page.get_by_role("button", name="管理者を作成して始める").click()
    expect(page.get_by_role("heading", name="はじめに", level=1)).to_be_visible()
    expect(page.get_by_text("✓ 済み: チームを作り、自分をチーム管理者にする")).to_be_visible()
    walk.shot(page, "welcome")


def connect_model(walk: Walk, page: Page) -> None:
    page.get_by_role("link", name="モデルを接続する").first.click()
    expect(page.get_by_role("heading", name="モデルを接続する", level=1)).to_be_visible()
    field(page, "名前（利用者に表示されるモデル名）").fill("llm-jp-4-vllm")  # type: ignore[attr-defined]
    field(page, "接続先 URL（base_url）").fill(walk.stub.base_url)  # type: ignore[attr-defined]
    field(page, "上流のモデル ID").fill("llm-jp/llm-jp-4-8b-instruct")  # type: ignore[attr-defined]
    walk.shot(page, "connect-model")
    walk.say("接続テスト成功", "東京", "42", "April 1, 2027", "伺う")  # the probe, then the four questions
    page.get_by_role("button", name="接続してテストする").click()
    expect(page.get_by_text("接続できました")).to_be_visible()
    expect(page.get_by_text("4 / 4 問正解")).to_be_visible()
    walk.shot(page, "model-check")
    page.get_by_role("button", name="このモデルを既定にする（チャット・タスクアプリで使う）").click()
    expect(page.get_by_role("status")).to_contain_text("既定のモデル（default）を切り替えました")


def chat(walk: Walk, page: Page) -> None:
    page.goto(f"{walk.base_url}/chat")
    page.get_by_role("button", name="会話を始める").click()
    walk.say("窓口の受付時間は、午前8時30分から午後5時15分までです。")
    page.get_by_label("質問・依頼").fill("市民課の窓口は何時までですか。")
    page.get_by_role("button", name="送信").click()
    expect(page.locator("#messages")).to_contain_text("午後5時15分まで")
    walk.shot(page, "chat")


def run_task(walk: Walk, page: Page, name: str, text: str, reply: str, expected: str) -> None:
    page.goto(f"{walk.base_url}/tasks/{name}")
    page.locator("form#app-form textarea").first.fill(text)
    walk.say(reply)
    page.get_by_role("button", name="実行").click()
    result = page.locator("#task-result #result")
    expect(result).to_be_visible(timeout=60_000)
    expect(result).to_contain_text(expected)
    assert result.bounding_box() is not None
    walk.shot(page, f"task-{name}")


def stop_a_run(walk: Walk, page: Page) -> None:
    """The stop button: the stream ends, what came is kept in the history as a stopped run."""
    page.goto(f"{walk.base_url}/tasks/summarise")
    page.locator("form#app-form textarea").first.fill("長い報告書の本文です。" * 20)
    walk.stub.scripts.append("slow_sse")  # one piece every 50 ms, 200 pieces
    page.get_by_role("button", name="実行").click()
    expect(page.get_by_test_id("stream-text")).not_to_be_empty(timeout=30_000)
    page.get_by_role("button", name="停止").click()
    expect(page.locator("#task-progress")).to_contain_text("停止しました")
    # the server keeps the stopped run once it sees the stream closed, a moment after the click
    deadline = time.monotonic() + 30
    while True:
        page.reload()
        if "（停止）" in page.get_by_test_id("history").inner_text() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    expect(page.get_by_test_id("history")).to_contain_text("（停止）")
    walk.shot(page, "task-stopped")


def task_apps(walk: Walk, page: Page) -> None:
    run_task(walk, page, "generate", "窓口の受付時間が4月1日から変わることを知らせたい",
             "4月1日から、窓口の受付時間が変わります。", "4月1日から")  # fmt: skip
    run_task(walk, page, "summarise", "令和7年4月1日の催しには1万8千人が来場しました。",
             "- 来場者は1万8千人。\n- 開催は令和7年5月1日。", "「令和7年5月1日」は原文に見つかりません")  # fmt: skip
    run_task(walk, page, "proofread", PROOFREAD_TEXT,
             "誤: 始めまする\n正: 始めます\n理由: 文末の誤り", "公用文の規則による指摘")  # fmt: skip
    stop_a_run(walk, page)
    run_task(walk, page, "translate", "2027年4月から、手数料は1,200円になります。",
             "From April 2027, the fee will be 1,300 yen.", "原文の「1200」が訳文に見当たりません")  # fmt: skip


def knowledge_base(walk: Walk, page: Page, tmp: Path) -> None:
    page.goto(f"{walk.base_url}/kb")
    page.get_by_role("textbox", name="名前").fill("窓口案内")
    page.get_by_role("button", name="作成").click()
    document = tmp / "madoguchi.txt"
    document.write_text(KB_DOCUMENT, encoding="utf-8")
    page.set_input_files("#field-files", str(document))
    page.get_by_role("button", name="アップロード").click()
    expect(page.get_by_text("検索できます")).to_be_visible(timeout=180_000)
    walk.shot(page, "kb-upload")
    page.get_by_role("link", name="RAG チャット").click()
    walk.say("市民課の窓口の受付時間は、午前8時30分から午後5時15分までです [1]。")
    page.get_by_label("質問", exact=True).fill("市民課の窓口の受付時間は？")
    page.get_by_role("button", name="質問する").click()
    expect(page.get_by_role("heading", name="根拠")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("回答を作成しています…")).to_be_hidden()
    walk.shot(page, "kb-answer")


def example_app(walk: Walk, page: Page) -> None:
    page.goto(f"{walk.base_url}/tasks/minutes_todo")
    page.get_by_label("議事録", exact=True).fill("総務課が4月10日までに会場を予約する。情報政策課が資料を配る。")
    walk.say("- [総務課] 会場を予約する（4月10日）\n- [情報政策課] 資料を配る")
    page.get_by_role("button", name="実行").click()
    expect(page.get_by_role("link", name="todo.csv")).to_be_visible(timeout=60_000)
    walk.shot(page, "example-app")


def menu_fits(walk: Walk, page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{walk.base_url}/")
    links = page.get_by_role("navigation", name="メインメニュー").get_by_role("link")
    tops = {round(box["y"]) for i in range(links.count()) if (box := links.nth(i).bounding_box())}
    assert len(tops) == 1, f"the header menu wraps at 1280 px: rows at {sorted(tops)}"
    walk.shot(page, "home-1280")


def example_installed() -> bool:
    return importlib.util.find_spec("hiraga_app_minutes") is not None


def walk(browser: Browser, base_url: str, setup_url: str, stub: StubUpstream, out: Path, *, kb: bool = True) -> Walk:
    out.mkdir(parents=True, exist_ok=True)
    state = Walk(base_url, stub, out)
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    setup(state, page, setup_url)
    connect_model(state, page)
    chat(state, page)
    task_apps(state, page)
    if kb:
        with tempfile.TemporaryDirectory() as tmp:
            knowledge_base(state, page, Path(tmp))
    if example_installed():  # ./scripts/first-hour installs it; the test suite runs without it
        example_app(state, page)
    menu_fits(state, page)
    context.close()
    return state


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """(base URL, setup URL) of a fresh ``hiraga serve``; the setup URL as the process printed it."""
    port = free_port()
    environment = {**os.environ, **(env or {}), "HIRAGA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    environment["HIRAGA_ALLOWED_UPSTREAM_HOSTS"] = "127.0.0.1"
    for name in ("HIRAGA_BASE_URL", "HIRAGA_CONFIG"):
        environment.pop(name, None)
    command = [HIRAGA, "serve", "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base_url, output = f"http://127.0.0.1:{port}", []
    try:
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            output.extend(process.stdout.readlines())
            if process.poll() is not None:
                raise RuntimeError("hiraga serve exited:\n" + "".join(output))
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        output.extend(process.stdout.readlines())
        found = re.search(r"(http://\S+/setup\?token=\S+)", "".join(output))
        if not found:
            raise RuntimeError("serve printed no setup URL:\n" + "".join(output))
        yield base_url, found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "first-hour")
    parser.add_argument("--skip-kb", action="store_true", help="skip the knowledge base (it loads the embedder)")
    args = parser.parse_args()
    stub = StubUpstream().start()
    with tempfile.TemporaryDirectory() as data, serving(Path(data) / "data") as (base_url, setup_url):
        assert setup_url.startswith(base_url), f"the setup URL {setup_url} is not where serve listens ({base_url})"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            done = walk(browser, base_url, setup_url, stub, args.out, kb=not args.skip_kb)
            browser.close()
    print("\n".join(str(p) for p in done.shots))
    print(f"first hour walked: {len(done.shots)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
