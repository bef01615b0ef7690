"""Portal responsiveness: time from submit to the first streamed token in a real browser, against
the gateway's own time to first token for the same calls (from its usage records), in one run.

    .venv/bin/python bench/portal_ttft.py --questions 12 [--database-url postgresql://...]

Starts ``hiraga serve`` (embedded model, short answers) on a fresh data directory, logs a user in
with Chromium (Playwright), asks the questions one by one in one conversation and prints a JSON
report: per question the browser's TTFT, the gateway's TTFT and the difference (what the page adds:
the POST, authentication, storing the question, building the prompt, SSE framing and rendering).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright

from hiraga.audit import keys as audit_keys
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole, UsageRecord

EMAIL, PASSWORD = "measure@city.example.jp", "Sakura-Portal-2026"
ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
QUESTIONS = [
    "日本の首都は？",
    "富士山の高さは？",
    "今日の予定を一言で",
    "挨拶を一つ",
    "春の季語を一つ",
    "一から三まで数えて",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(database_url: str, data_dir: Path) -> None:
    migrate.upgrade(database_url)
    database = Database(database_url)
    audit_keys.bind(database.engine, load_settings(data_dir=data_dir, database_url=database_url))  # the server's key
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "ベンチ市")
        team = directory.create_team(db, ROOT, org.id, "計測課")
        user = directory.create_user(db, ROOT, email=EMAIL, password=PASSWORD, display_name="bench")
        directory.set_membership(db, ROOT, team.id, user.id, TeamRole.MEMBER)
    database.dispose()


def serve(data_dir: Path, database_url: str, model_dir: str, max_tokens: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "HIRAGA_DATA_DIR": str(data_dir), "HIRAGA_DATABASE_URL": database_url,
           "HIRAGA_EMBEDDED_MODEL_DIR": model_dir, "HIRAGA_PORTAL_MAX_OUTPUT_TOKENS": str(max_tokens)}  # fmt: skip
    hiraga = str(Path(sys.executable).parent / "hiraga")
    process = subprocess.Popen([hiraga, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("hiraga serve did not start")


def ask(page: Page, question: str) -> float:
    page.evaluate("() => delete document.documentElement.dataset.firstTokenMs")
    page.get_by_label("質問・依頼").fill(question)
    page.get_by_role("button", name="送信").click()
    page.wait_for_function("() => document.documentElement.dataset.firstTokenMs", timeout=300_000)
    page.get_by_role("button", name="生成を停止").wait_for(state="hidden", timeout=300_000)
    return float(page.evaluate("() => document.documentElement.dataset.firstTokenMs"))


def gateway_ttfts(database_url: str) -> list[float | None]:
    database = Database(database_url)
    with database.session() as db:
        query = sa.select(UsageRecord.ttft_ms).where(UsageRecord.source == "portal").order_by(UsageRecord.id)
        values = list(db.scalars(query))
    database.dispose()
    return values


def run(questions: int, database_url: str | None, model_dir: str, max_tokens: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/hiraga.db"
        seed(url, Path(tmp))
        process, base = serve(Path(tmp), url, model_dir, max_tokens)
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = chromium.new_page(locale="ja-JP")
                page.goto(f"{base}/login")
                page.get_by_label("メールアドレス").fill(EMAIL)
                page.get_by_label("パスワード").fill(PASSWORD)
                page.get_by_role("button", name="ログイン").click()
                page.goto(f"{base}/chat")
                page.get_by_role("button", name="会話を始める").click()
                ask(page, "準備運動です。はいとだけ答えて")  # loads the model; not counted
                browser_ms = [ask(page, QUESTIONS[i % len(QUESTIONS)]) for i in range(questions)]
                chromium.close()
            time.sleep(1.5)  # the usage ledger commits in groups
            gateway_ms = gateway_ttfts(url)[1:]
        finally:
            process.terminate()
            process.wait(30)
    pairs = [(b, g) for b, g in zip(browser_ms, gateway_ms, strict=False) if g is not None]
    added = [b - g for b, g in pairs]
    return {
        "questions": len(pairs),
        "browser_ttft_ms_median": round(statistics.median(b for b, _ in pairs), 1),
        "gateway_ttft_ms_median": round(statistics.median(g for _, g in pairs), 1),
        "page_adds_ms_median": round(statistics.median(added), 1),
        "page_adds_ms_max": round(max(added), 1),
        "per_question": [{"browser_ms": round(b, 1), "gateway_ms": round(g, 1)} for b, g in pairs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--model-dir", default=os.environ.get("HIRAGA_TEST_MODEL_CACHE", "/tmp/hiraga-test-models"))
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    print(json.dumps(run(args.questions, args.database_url, args.model_dir, args.max_tokens), indent=2))


if __name__ == "__main__":
    main()
