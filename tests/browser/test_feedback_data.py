"""Feedback datasets in a real browser against a real ``hiraga serve``: a team admin allows training
use; a member sees that next to the 👍/👎 form, rates a reply and corrects it; the admin sees the
scrubbed item with its placeholders marked, approves it and downloads the export, which loads with
``datasets`` and holds no personal data. A member runs a task app (翻訳, answered by a stub
OpenAI-compatible upstream), gives 👎 with a category and a corrected output under it, and the
admin finds it in the review queue with the prompt the app sent. axe-core on the pages. SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_first_run
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from test_apps import ROOT, seed_people
from test_first_run import Server, start_server
from test_portal import axe_violations, log_in

from hiraga.audit import keys as audit_keys
from hiraga.feedback_data import policy
from hiraga.gateway.admin_protocol import EndpointCreate
from hiraga.gateway.registry import RegistryRules, create_endpoint
from hiraga.gateway.secrets import SecretBox
from hiraga.settings import load_settings
from hiraga.store.database import Database
from hiraga.store.tables import Conversation, Message, Team, User

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from gateway_stub import StubUpstream

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
NAME, PHONE = "高橋健一", "045-123-4567"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    seed_people(database_url, tmp_path / "data")
    database = Database(database_url)
    with database.session() as db:
        member = db.scalar(select(User.id).where(User.email == "member@city.example.jp"))
        assert member is not None
        chat = Conversation(user_id=member, title="窓口への返信", model="default", classification=1)
        db.add(chat)
        db.flush()
        db.add(Message(conversation_id=chat.id, position=0, role="user", content=f"{NAME}さんへの返信を書いて"))
        db.add(
            Message(conversation_id=chat.id, position=1, role="assistant", content="承知しました。", model_name="m1")
        )
    database.dispose()
    yield from start_server(tmp_path, database_url)


def test_feedback_becomes_a_reviewed_scrubbed_dataset(server: Server, browser: Browser, tmp_path: Path) -> None:
    admin = log_in(browser, server.base_url, "admin@city.example.jp", bypass_csp=True, accept_downloads=True)
    admin.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="学習データ").click()
    expect(admin.get_by_role("heading", name="学習データの確認と書き出し", level=1)).to_be_visible()
    assert axe_violations(admin) == []
    admin.get_by_label("このチームの評価を学習データとして提供してよい").check()
    admin.get_by_role("button", name="方針を保存").click()
    expect(admin.get_by_role("status")).to_contain_text("提供の方針を保存しました")

    member = log_in(browser, server.base_url, "member@city.example.jp", bypass_csp=True)
    member.get_by_role("link", name="チャット", exact=True).first.click()
    member.get_by_role("link", name="窓口への返信").click()
    member.get_by_text("この回答を評価する").click()
    expect(member.locator(".training-notice")).to_contain_text("チーム管理者が確認した後")
    member.get_by_label("良くない回答").check()
    member.get_by_label("正しい回答（任意）").fill(f"{NAME}様、{PHONE} までご連絡ください。")
    member.get_by_role("button", name="評価を送る").click()
    member.get_by_text("この回答を評価する（評価済み: 👎）").click()
    member.get_by_role("link", name="学習データへの提供について").click()
    expect(member.get_by_role("cell", name="確認待ち")).to_be_visible()
    assert axe_violations(member) == []

    admin.reload()
    item = admin.locator("article.dataset-item")
    expect(item.locator("mark.pii-placeholder", has_text="〔氏名1〕").first).to_be_visible()
    expect(item).not_to_contain_text(NAME)
    item.get_by_role("button", name="承認").click()
    expect(admin.get_by_role("status")).to_contain_text("確認結果を保存しました")
    with admin.expect_download() as downloading:
        admin.get_by_role("button", name="zip をダウンロード").click()
    archive = tmp_path / "export.zip"
    downloading.value.save_as(archive)
    folder = tmp_path / "export"
    zipfile.ZipFile(archive).extractall(folder)
    text = "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
    assert NAME not in text and PHONE not in text

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    pairs = datasets.load_dataset(str(folder), "preference", split="train", cache_dir=str(tmp_path / "hf"))
    assert pairs[0]["chosen"][0]["content"] == "〔氏名1〕様、〔電話番号1〕 までご連絡ください。"
    assert pairs[0]["rejected"][0]["content"] == "承知しました。"


@pytest.fixture
def task_server(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Server, StubUpstream]]:
    """The planning team allows training use; a chat model behind a stub upstream on the loopback."""
    seed_people(database_url, tmp_path / "data")
    stub = StubUpstream().start()
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url)
    rules = RegistryRules(box=SecretBox(settings.secret()), allowed_hosts=("127.0.0.1",))
    database = Database(database_url)
    audit_keys.bind(database.engine, settings)  # the server's key: the policy change is audited
    with database.session() as db:
        planning = db.scalar(select(Team.id).where(Team.name == "企画課"))
        assert planning is not None
        policy.set_policy(db, ROOT, planning, True)
        spec = EndpointCreate(
            name="stub-chat", provider="openai", base_url=stub.base_url, upstream_model="stub-model",
            all_teams=True, clearance=2, external=False, context_window=4096,
        )  # fmt: skip
        create_endpoint(db, ROOT, spec, rules)
    database.dispose()
    monkeypatch.setenv("HIRAGA_ALLOWED_UPSTREAM_HOSTS", "127.0.0.1")
    for server in start_server(tmp_path, database_url):
        yield server, stub


def test_feedback_and_a_correction_on_a_task_output_reach_the_review_queue(
    task_server: tuple[Server, StubUpstream], browser: Browser
) -> None:
    server, stub = task_server
    stub.plan(("say", "図書館は5月2日が休館日です。"))
    member = log_in(browser, server.base_url, "member@city.example.jp", bypass_csp=True)
    member.goto(f"{server.base_url}/tasks/translate")
    member.get_by_label("翻訳する文章").fill("The library is closed on 1 May.")
    member.get_by_label("モデル").select_option("stub-chat")
    member.get_by_role("button", name="実行").click()
    result = member.locator("#task-result")  # the result section and the 👍/👎 form under it
    expect(result.get_by_test_id("result-output")).to_contain_text("5月2日")
    result.get_by_text("この出力を評価する").click()
    expect(result.locator(".training-notice")).to_contain_text("チーム管理者が確認した後")
    result.get_by_label("👎 良くない出力").check()
    result.get_by_label("👎 の理由（任意・👎 のときだけ使います）").select_option(label="数値・日付の誤り")
    result.get_by_label("コメント（任意）").fill("日付が原文と違う")
    result.get_by_label("正しい出力（任意）").fill("図書館は5月1日が休館日です。")
    result.get_by_role("button", name="評価を送る").click()
    expect(member.get_by_role("status").first).to_contain_text("評価を保存しました")
    expect(member.locator("#task-result details.feedback summary")).to_contain_text("評価済み: 👎・数値・日付の誤り")
    assert axe_violations(member) == []

    admin = log_in(browser, server.base_url, "admin@city.example.jp", bypass_csp=True)
    admin.goto(f"{server.base_url}/feedback-data/review")
    item = admin.locator("article.dataset-item")
    expect(item).to_have_count(1)
    expect(item.get_by_role("heading")).to_contain_text("translate · stub-chat")
    expect(item).to_contain_text("👎（数値・日付の誤り）")
    [sent] = stub.chat_requests()
    assert sent.body is not None
    system_prompt = sent.body["messages"][0]["content"]
    expect(item).to_contain_text(system_prompt.split("\n")[0])  # the prompt the app really sent
    expect(item).to_contain_text("図書館は5月1日が休館日です。")
    assert axe_violations(admin) == []
