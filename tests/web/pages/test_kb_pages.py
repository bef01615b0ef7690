"""Knowledge-base pages: a team admin creates a knowledge base and uploads law XML with forms (no
JavaScript needed), members search and ask; the answer (from a real HTTP stub upstream through the
gateway) shows its [n] markers as links to the 根拠 panel; other teams get 404. Lexical search only
(the embedder is switched off for speed)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pages_support import csrf_from, post_form
from sqlalchemy import select

from hiraga.portal import task_history
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import TaskRun

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "knowledge"))
from rag_support import (
    LAW_ID,
    LAW_SAMPLE,
    ScriptedUpstream,
    halfway_pdf_job,
    lexical_client,
    scripted_upstream,
    stub_settings,
)

AsUser = Callable[[str], TestClient]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with lexical_client(app) as test_client:
        yield test_client


@pytest.fixture
def upstream(as_user: AsUser) -> ScriptedUpstream:
    """The stub behind the "default" alias (what the page asks for)."""
    stub = scripted_upstream()
    client = as_user("root")
    headers = {"x-csrf-token": csrf_from(client.get("/account").text)}
    body = {"name": "rag-stub", "provider": "openai", "base_url": stub.base_url, "upstream_model": "stub"}
    body |= {"all_teams": True, "clearance": 3, "context_window": 8192}
    assert client.post("/api/v1/models", json=body, headers=headers).status_code == 201
    alias = {"members": [{"endpoint": "rag-stub", "priority": 0}]}
    assert client.put("/api/v1/models/aliases/default", json=alias, headers=headers).is_success
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").text)})
    return stub


def create_and_upload(as_user: AsUser) -> int:
    client = as_user("alice")
    created = post_form(client, "/kb", "/kb", {"name": "法令集", "team_id": "1", "classification": "2"})
    assert created.status_code == 303, created.text
    kb_url = created.headers["location"].split("?")[0]
    kb_id = int(kb_url.rsplit("/", 1)[1])
    token = csrf_from(client.get(kb_url).text)
    files = {"files": (LAW_SAMPLE.name, LAW_SAMPLE.read_bytes(), "application/xml")}
    uploaded = client.post(f"{kb_url}/documents", data={"csrf_token": token}, files=files, follow_redirects=False)
    assert uploaded.status_code == 303 and "notice=uploaded" in uploaded.headers["location"]
    deadline = time.monotonic() + 120
    while "検索できます" not in (fragment := client.get(f"{kb_url}/documents").text):
        assert time.monotonic() < deadline, fragment
        time.sleep(0.05)
    assert "hx-get" not in fragment  # polling stops once no job is open
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").text)})
    return kb_id


def test_admin_creates_uploads_and_a_member_asks(as_user: AsUser, upstream: ScriptedUpstream) -> None:
    kb_id = create_and_upload(as_user)
    amy = as_user("amy")
    detail = amy.get(f"/kb/{kb_id}").text
    assert "行政手続法" in detail and "文書を追加" not in detail  # members do not manage
    found = amy.get(f"/kb/{kb_id}/search", params={"q": "審査基準を定める"}).text
    assert "第五条" in found
    upstream.plan(("say", "行政庁は審査基準を定めます[1]。公にもします[1][9]。"))
    answered = post_form(amy, f"/kb/{kb_id}/ask", f"/kb/{kb_id}/ask", {"question": "審査基準は誰が定めますか"})
    assert answered.status_code == 200, answered.text
    page = answered.text
    assert 'href="#passage-1"' in page and 'id="passage-1"' in page
    assert "passage-9" not in page and "[9]" not in page.split("注意")[0]
    evidence = page.split('id="passage-1"', 1)[1]
    assert "行政手続法第五条" in evidence and "審査基準を定めるものとする" in evidence
    assert f'href="https://laws.e-gov.go.jp/law/{LAW_ID}#Mp-At_5"' in evidence
    assert "資料にない番号の引用 [9] を取り除きました" in page


def test_a_member_asks_with_query_expansion_and_sees_the_phrasings(as_user: AsUser, upstream: ScriptedUpstream) -> None:
    kb_id = create_and_upload(as_user)
    amy = as_user("amy")
    assert 'name="expand_query"' in amy.get(f"/kb/{kb_id}/ask").text
    upstream.plan(("say", "行政庁が申請を拒否する処分の理由の提示"), ("say", "[1]"))
    question = {"question": "役所が頼みごとを断るとき、わけを言わなきゃいけない？", "expand_query": "1"}
    page = post_form(amy, f"/kb/{kb_id}/ask", f"/kb/{kb_id}/ask", question).text
    assert "検索に使った言い換え: 行政庁が申請を拒否する処分の理由の提示" in page
    assert "資料の該当箇所" in page and 'id="passage-1"' in page
    assert "モデルが書いたままの回答" in page and "<pre>[1]</pre>" in page


def test_htmx_ask_answers_with_the_fragment(as_user: AsUser, upstream: ScriptedUpstream) -> None:
    kb_id = create_and_upload(as_user)
    amy = as_user("amy")
    token = csrf_from(amy.get(f"/kb/{kb_id}/ask").text)
    answered = amy.post(
        f"/kb/{kb_id}/ask",
        data={"question": "明日の天気は晴れますか", "csrf_token": token},
        headers={"hx-request": "true"},
    )
    assert answered.status_code == 200
    assert answered.text.lstrip().startswith('<div id="kb-answer"')
    assert "該当する資料が見つかりませんでした" in answered.text
    assert upstream.chat_requests() == []


def test_other_teams_get_404(as_user: AsUser) -> None:
    kb_id = create_and_upload(as_user)
    bea = as_user("bea")
    assert f"/kb/{kb_id}" not in bea.get("/kb").text
    for path in (f"/kb/{kb_id}", f"/kb/{kb_id}/search?q=審査", f"/kb/{kb_id}/ask"):
        assert bea.get(path).status_code == 404


def test_bad_create_input_keeps_nothing_and_shows_the_error(as_user: AsUser) -> None:
    alice = as_user("alice")
    response = post_form(alice, "/kb", "/kb", {"name": "  ", "team_id": "1", "classification": "2"})
    assert response.status_code == 400
    assert re.search(r"名前は 1〜\d+ 文字で指定してください", response.text)
    assert "/kb/" not in alice.get("/kb").text.split("<main", 1)[1].split("ナレッジベースを作成")[0]


def test_english_pages(as_user: AsUser) -> None:
    kb_id = create_and_upload(as_user)
    amy = as_user("amy")
    page = amy.get(f"/kb/{kb_id}/ask", params={"lang": "en"}).text
    assert "RAG chat" in page and "Ask" in page


def test_a_team_admin_picks_a_reranker_and_search_uses_it(as_user: AsUser, upstream: ScriptedUpstream) -> None:
    root = as_user("root")
    headers = {"x-csrf-token": csrf_from(root.get("/account").text)}
    for name, clearance in (("reranker", 3), ("reranker-public", 1)):
        body = {"name": name, "provider": "openai", "kind": "rerank", "base_url": upstream.base_url}
        body |= {"upstream_model": "bge-reranker-v2-m3", "all_teams": True, "clearance": clearance}
        assert root.post("/api/v1/models", json=body, headers=headers).status_code == 201
    root.post("/logout", data={"csrf_token": csrf_from(root.get("/account").text)})
    kb_id = create_and_upload(as_user)
    alice = as_user("alice")
    detail = alice.get(f"/kb/{kb_id}").text
    assert '<option value="reranker">' in detail and "reranker-public" not in detail  # level 2: not cleared
    refused = post_form(alice, f"/kb/{kb_id}", f"/kb/{kb_id}/settings", {"reranker_model": "reranker-public"})
    assert refused.status_code == 400 and "クリアランス" in refused.text
    saved = post_form(alice, f"/kb/{kb_id}", f"/kb/{kb_id}/settings", {"reranker_model": "reranker"})
    assert saved.status_code == 303 and "notice=settings_saved" in saved.headers["location"]
    upstream.plan(("prefer", "第七条"))
    found = as_user("amy").get(f"/kb/{kb_id}/search", params={"q": "審査基準を定める"}).text
    assert "再ランキング用モデル: reranker" in found
    assert found.index("第七条") < found.index("第五条")


def test_the_documents_fragment_shows_page_progress_and_keeps_polling(as_user: AsUser, settings: Settings) -> None:
    client = as_user("alice")
    created = post_form(client, "/kb", "/kb", {"name": "例規集", "team_id": "1", "classification": "2"})
    kb_id = int(created.headers["location"].split("?")[0].rsplit("/", 1)[1])
    halfway_pdf_job(settings.database_url, kb_id)
    fragment = client.get(f"/kb/{kb_id}/documents").text
    assert "取り込み中" in fragment and "ページ 2 / 5（192 区画）" in fragment
    assert '<progress max="5" value="2">' in fragment and "hx-get" in fragment


def test_the_rag_app_offers_the_knowledge_bases_the_user_may_read(as_user: AsUser) -> None:
    alice = as_user("alice")
    created = post_form(alice, "/kb", "/kb", {"name": "例規集", "team_id": "1", "classification": "2"})
    assert created.status_code == 303
    page = as_user("amy").get("/tasks/rag_qa").text  # a member of the owning team
    picker = page.split('id="in-knowledge_base"', 1)[1].split("</select>", 1)[0]
    assert '<option value="例規集"' in picker
    other = as_user("bea").get("/tasks/rag_qa").text  # another team: nothing to pick, and a way forward
    assert "例規集" not in other and "使えるナレッジベースがまだありません" in other and 'href="/kb"' in other


def test_the_ask_page_has_its_stylesheet_and_the_busy_note_only_while_asking(as_user: AsUser) -> None:
    alice = as_user("alice")
    created = post_form(alice, "/kb", "/kb", {"name": "要綱集", "team_id": "1", "classification": "2"})
    kb_url = created.headers["location"].split("?")[0]
    ask = alice.get(f"{kb_url}/ask").text
    assert '<link rel="stylesheet" href="/static/kb.css">' in ask and "htmx-indicator" in ask
    assert alice.get("/static/kb.css").status_code == 200
    css = alice.get("/static/hiraga.css").text
    assert ".htmx-indicator { display: none; }" in css and ".htmx-request .htmx-indicator" in css


def test_a_rag_run_keeps_the_retrieved_passages_it_sent_for_feedback(
    as_user: AsUser, upstream: ScriptedUpstream, database: Database
) -> None:
    create_and_upload(as_user)
    amy = as_user("amy")
    upstream.plan(("say", "行政庁が定めます[1]。"))
    page = amy.get("/tasks/rag_qa").text
    data = {
        "knowledge_base": "法令集",
        "question": "審査基準は誰が定めますか",
        "classification": "2",
        "model": "default",
    }
    data["csrf_token"] = csrf_from(page)
    shown = amy.post("/tasks/rag_qa", data=data)
    assert shown.status_code == 200 and "/feedback" in shown.text, shown.text  # the 👍/👎 form
    with database.session() as db:
        [row] = db.scalars(select(TaskRun))
        kept = task_history.record_from_row(row).prompt
    [request] = upstream.chat_requests()
    assert request.body is not None and kept == request.body["messages"]
    assert "審査基準を定めるものとする" in kept[-1]["content"]  # the retrieved passage, as the model saw it
