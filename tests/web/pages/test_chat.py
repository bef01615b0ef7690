"""Chat pages without JavaScript (plain form posts) and with the page script's SSE request:
conversations, answers, attachments, hostile content, feedback, settings, and bots."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import docx
import portal_pages
import pytest
from fastapi.testclient import TestClient
from pages_support import Directory, csrf_from
from portal_pages import REPLY, STUB_MODEL, conversation_id, stub_settings, submit

from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import Conversation, Message

stub, stub_models = portal_pages.stub, portal_pages.stub_models


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


def start(client: TestClient, model: str = STUB_MODEL, level: str = "2") -> int:
    response = submit(client, "/chat", "/chat", {"model": model, "classification": level})
    assert response.status_code == 303, response.text
    return conversation_id(response)


class Scripts(HTMLParser):
    """Every element that could run script: <script>, on* handlers, javascript: URLs."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and dict(attrs).get("src") not in ("/static/htmx.min.js", "/static/portal/portal.js"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")


def test_the_model_picker_offers_the_users_models_and_marks_the_builtin_one(as_user, stub_models) -> None:
    page = as_user("amy").get("/chat").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert {STUB_MODEL, "stub-small", "default"} <= set(options)
    assert "default（組み込み・小型）" in page
    assert '<option value="2"' in page and "機密性3" in page


def test_a_question_without_javascript_gets_an_answer_and_a_feedback_form(as_user, stub_models, stub) -> None:
    client = as_user("amy")
    cid = start(client)
    sent = submit(client, f"/chat/{cid}", f"/chat/{cid}/messages", {"content": "窓口の受付時間は？"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/chat/{cid}#latest"
    page = client.get(f"/chat/{cid}").text
    assert "窓口の受付時間は？" in page and REPLY in page
    assert f"回答したモデル: <strong>{STUB_MODEL}</strong>" in page
    assert "この回答を評価する" in page
    assert stub.chat_requests()[-1].body["messages"][-1]["content"] == "窓口の受付時間は？"
    reply = re.search(r'action="(/chat/\d+/messages/\d+/feedback)"', page)
    assert reply
    rated = submit(
        client, f"/chat/{cid}", reply.group(1), {"rating": "bad", "comment": "古い情報", "corrected_answer": "9時から"}
    )
    assert rated.status_code == 303 and "feedback_saved" in rated.headers["location"]
    assert "評価済み: 👎" in client.get(f"/chat/{cid}").text


def test_the_page_script_gets_the_answer_as_sse(as_user, stub_models) -> None:
    client = as_user("amy")
    cid = start(client)
    token = csrf_from(client.get(f"/chat/{cid}").text)
    response = client.post(
        f"/chat/{cid}/messages",
        data={"content": "こんにちは"},
        headers={"accept": "text/event-stream", "x-csrf-token": token},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert (
        "event: model" in response.text and "event: delta" in response.text and '"status":"complete"' in response.text
    )
    blank = client.post(
        f"/chat/{cid}/messages", data={"content": " "}, headers={"accept": "text/event-stream", "x-csrf-token": token}
    )
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "empty_message"


def test_hostile_text_from_users_and_models_cannot_run_script(as_user, stub_models, database: Database) -> None:
    client = as_user("amy")
    cid = start(client)
    hostile = "<script>alert(1)</script><img src=x onerror=alert(1)>[x](javascript:alert(1))"
    with database.session() as db:
        db.add(Message(conversation_id=cid, position=0, role="user", content=hostile))
        db.add(Message(conversation_id=cid, position=1, role="assistant", content=hostile + "\n\n<b onclick=x>b</b>"))
    page = client.get(f"/chat/{cid}").text
    assert Scripts(page).found == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_attachments_join_the_context_and_cuts_are_reported(as_user, stub_models, stub) -> None:
    client = as_user("amy")
    cid = start(client, model="stub-small")  # a 1,024-token window
    document = docx.Document()
    document.add_paragraph("規程第一条。" + "本文" * 400)
    buffer = io.BytesIO()
    document.save(buffer)
    files = [("files", ("規程.docx", buffer.getvalue())), ("files", ("メモ.txt", "短いメモ".encode()))]
    sent = submit(client, f"/chat/{cid}", f"/chat/{cid}/messages", {"content": "要点は？"}, files=files)
    assert sent.status_code == 303, sent.text
    page = client.get(f"/chat/{cid}").text
    assert "📎 規程.docx" in page and "📎 メモ.txt" in page
    assert "「規程.docx」は長いため" in page
    prompt = stub.chat_requests()[-1].body["messages"][-1]["content"]
    assert "【添付ファイル: メモ.txt】\n短いメモ" in prompt and "規程第一条。" in prompt and prompt.endswith("要点は？")


def test_an_unreadable_file_is_refused_and_nothing_is_kept(as_user, stub_models, stub, database: Database) -> None:
    client = as_user("amy")
    cid = start(client)
    files = [("files", ("壊れた.docx", b"not a zip file"))]
    refused = submit(client, f"/chat/{cid}", f"/chat/{cid}/messages", {"content": "読んで"}, files=files)
    assert (refused.status_code == 422 and "壊れた.docx" in refused.text) or "形式" in refused.text
    assert 'role="alert"' in refused.text
    with database.session() as db:
        assert db.query(Message).filter(Message.conversation_id == cid).count() == 0
    assert stub.chat_requests() == []


def test_rename_settings_search_and_delete(as_user, stub_models, database: Database) -> None:
    client = as_user("amy")
    cid = start(client)
    renamed = submit(client, f"/chat/{cid}", f"/chat/{cid}/rename", {"title": "予算の相談"})
    assert renamed.status_code == 303
    assert "予算の相談" in client.get("/chat?q=予算").text
    assert "予算の相談" not in client.get("/chat?q=人事").text
    blank = submit(client, f"/chat/{cid}", f"/chat/{cid}/rename", {"title": "  "})
    assert blank.status_code == 400 and "会話の名前を入力してください" in blank.text
    changed = submit(client, f"/chat/{cid}", f"/chat/{cid}/settings", {"model": "stub-small", "classification": "1"})
    assert changed.status_code == 303
    with database.session() as db:
        row = db.get(Conversation, cid)
        assert row is not None and (row.title, row.model, row.classification) == ("予算の相談", "stub-small", 1)
    deleted = submit(client, f"/chat/{cid}", f"/chat/{cid}/delete", {})
    assert deleted.status_code == 303 and client.get(f"/chat/{cid}").status_code == 404


def test_another_users_conversation_does_not_exist(as_user, stub_models, client: TestClient) -> None:
    cid = start(as_user("amy"))
    client.cookies.clear()
    intruder = as_user("alice")
    assert intruder.get(f"/chat/{cid}").status_code == 404


def test_team_admins_share_bots_with_their_team_only(as_user, people: Directory, client: TestClient) -> None:
    admin = as_user("alice")
    made = submit(
        admin, "/bots", "/bots", {"team_id": str(people.team_a), "name": "議事録係", "system_prompt": "議事録の形で"}
    )
    assert made.status_code == 303
    client.cookies.clear()
    assert "議事録係" in as_user("amy").get("/bots").text
    client.cookies.clear()
    assert "議事録係" not in as_user("bea").get("/bots").text
    refused = submit(client, "/bots", "/bots", {"team_id": str(people.team_a), "name": "x", "system_prompt": "y"})
    assert refused.status_code == 404  # bea is in team B: team A does not exist for her
