"""Knowledge bases in a real browser against a real ``hiraga serve``: a team admin creates a
knowledge base and uploads e-Gov law XML (progress polled by HTMX), asks in the RAG チャット, and
the answer's [1] opens the cited passage in the 根拠 panel (law, article, e-Gov link); a member of
another team neither sees nor opens the knowledge base. The model is the gateway's HTTP stub
upstream (OpenAI protocol) behind the "default" alias, so the answer and its markers are known."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from test_first_run import Server, browser, field, start_server  # noqa: F401  (fixture)

from hiraga.audit import keys as audit_keys
from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knowledge"))
from rag_support import LAW_ID, LAW_SAMPLE, ScriptedUpstream, scripted_upstream

pytestmark = pytest.mark.browser
PASSWORD = "Sakura-City-2025"


def make_people(database_url: str, data_dir: Path) -> str:
    """A team admin and a member of another team (passwords), and a system admin's API key."""
    scope = AccessScope(CLI_OPERATOR)
    database = Database(database_url)
    audit_keys.bind(database.engine, load_settings(data_dir=data_dir, database_url=database_url))  # the server's key
    with database.session() as db:
        org = directory.create_organisation(db, scope, "さくら市")
        legal, tax = (directory.create_team(db, scope, org.id, name) for name in ("法務課", "税務課"))
        for email, team in (("admin@city.example.jp", legal), ("other@city.example.jp", tax)):
            user = directory.create_user(db, scope, email=email, password=PASSWORD)
            directory.set_membership(db, scope, team.id, user.id, TeamRole.ADMIN if team is legal else TeamRole.MEMBER)
        root = directory.create_user(db, scope, email="root@city.example.jp", password=None, is_system_admin=True)
        key = api_keys.issue_key(db, CLI_OPERATOR, root.id, "setup", 1).secret
    database.dispose()
    return key


def use_stub_as_default(server: Server, key: str) -> ScriptedUpstream:
    stub = scripted_upstream()
    headers = {"authorization": f"Bearer {key}"}
    body = {"name": "rag-stub", "provider": "openai", "base_url": stub.base_url, "upstream_model": "stub"}
    body |= {"all_teams": True, "clearance": 3, "context_window": 8192}
    assert httpx.post(f"{server.base_url}/api/v1/models", json=body, headers=headers, timeout=60).status_code == 201
    alias = {"members": [{"endpoint": "rag-stub", "priority": 0}]}
    assert httpx.put(
        f"{server.base_url}/api/v1/models/aliases/default", json=alias, headers=headers, timeout=60
    ).is_success
    return stub


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    field(page, "メールアドレス").fill(email)
    field(page, "パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()


def test_team_admin_builds_a_kb_asks_and_opens_the_cited_passage(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    browser: Browser,  # noqa: F811
) -> None:
    key = make_people(database_url, tmp_path / "data")
    for server in _server(tmp_path, database_url, monkeypatch):
        stub = use_stub_as_default(server, key)
        page = browser.new_page(locale="ja-JP")
        log_in(page, server.base_url, "admin@city.example.jp")
        page.goto(f"{server.base_url}/kb")
        field(page, "名前").fill("法令集")
        page.get_by_role("button", name="作成").click()
        expect(page.get_by_role("status")).to_contain_text("ナレッジベースを作成しました")
        kb_url = page.url.split("?")[0]
        page.get_by_label("ファイル").set_input_files(str(LAW_SAMPLE))
        page.get_by_role("button", name="アップロード").click()
        expect(page.get_by_role("status")).to_contain_text("文書を受け付けました")
        expect(page.get_by_role("cell", name="検索できます")).to_be_visible(timeout=120_000)  # HTMX polling

        stub.plan(("say", "行政庁は審査基準を定めるものとされています[1]。"))
        page.get_by_role("link", name="RAG チャット").click()
        page.get_by_label("質問", exact=True).fill("審査基準は誰が定めるのですか")
        page.get_by_role("button", name="質問する").click()
        answer = page.locator(".answer-body")
        expect(answer).to_contain_text("行政庁は審査基準を定めるものとされています")
        answer.get_by_role("link", name="[1]").first.click()
        assert page.url.endswith("#passage-1")
        passage = page.locator("#passage-1")
        expect(passage).to_be_in_viewport()
        expect(passage).to_contain_text("行政手続法第五条")
        expect(passage).to_contain_text("行政庁は、審査基準を定めるものとする。")
        link = passage.get_by_role("link", name="原文を開く")
        expect(link).to_have_attribute("href", f"https://laws.e-gov.go.jp/law/{LAW_ID}#Mp-At_5")
        page.close()

        other = browser.new_page(locale="ja-JP")
        log_in(other, server.base_url, "other@city.example.jp")
        other.goto(f"{server.base_url}/kb")
        expect(other.get_by_role("link", name="法令集")).to_have_count(0)
        response = other.goto(kb_url)
        assert response is not None and response.status == 404
        other.close()


def _server(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("HIRAGA_ALLOWED_UPSTREAM_HOSTS", "127.0.0.1")
    monkeypatch.setenv("HIRAGA_GATEWAY_CACHE_SECONDS", "0")
    yield from start_server(tmp_path, database_url)
