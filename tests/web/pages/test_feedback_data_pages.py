"""The feedback-dataset pages: the consent notice next to the 👍/👎 form, a member's own items and
opt-out, the team admin's policy form, review queue (highlighted placeholders, edit, approve), the
zip download and withdrawal; members are refused the admin page."""

from __future__ import annotations

import io
import json
import re
import zipfile

from fastapi.testclient import TestClient
from pages_support import Directory, login, post_form

from hiraga.store.database import Database
from hiraga.store.tables import Conversation, Message

NAME, PHONE = "佐藤花子", "03-5555-1234"


def reply(database: Database, user_id: int) -> tuple[int, int]:
    with database.session() as db:
        conversation = Conversation(user_id=user_id, title="窓口", model="default", classification=1)
        db.add(conversation)
        db.flush()
        db.add(Message(conversation_id=conversation.id, position=0, role="user", content=f"{NAME}さんに返信を"))
        answer = Message(
            conversation_id=conversation.id, position=1, role="assistant", content="承知しました。", model_name="m1"
        )
        db.add(answer)
        db.flush()
        return conversation.id, answer.id


def test_feedback_review_and_export_through_the_pages(client: TestClient, database: Database, people: Directory):
    login(client, "alice@example.go.jp")
    saved = post_form(
        client,
        "/feedback-data/review",
        f"/feedback-data/teams/{people.team_a}/policy",
        {"training_use": "1", "max_classification": "1", "licence": "CC-BY-4.0"},
    )
    assert saved.status_code == 303 and "policy_saved" in saved.headers["location"]

    login(client, "amy@example.go.jp")
    cid, mid = reply(database, people.ids["amy"])
    page = client.get(f"/chat/{cid}").text
    assert "個人情報を置き換えて" in page and 'href="/feedback-data"' in page
    corrected = f"{NAME}様、{PHONE} までお電話ください。"
    rated = post_form(
        client,
        "/feedback-data",
        f"/chat/{cid}/messages/{mid}/feedback",
        {"rating": "bad", "corrected_answer": corrected, "category": "instructions"},
    )
    assert rated.status_code == 303
    assert "（評価済み: 👎・指示に従っていない）" in client.get(f"/chat/{cid}").text
    mine = client.get("/feedback-data").text
    assert "確認待ち" in mine and NAME not in mine
    assert client.get("/feedback-data/review").status_code == 403

    login(client, "alice@example.go.jp")
    queue = client.get(f"/feedback-data/review?team_id={people.team_a}").text
    assert '<mark class="pii-placeholder"' in queue and "〔氏名1〕" in queue and NAME not in queue
    assert "👎（指示に従っていない）" in queue
    item_id = re.search(r'action="/feedback-data/items/(\d+)/review"', queue)
    assert item_id
    edit = {
        "decision": "edit",
        "prompt_role_0": "system",
        "prompt_0": "丁寧に答える。",
        "prompt_role_1": "user",
        "prompt_1": "〔氏名1〕さんに返信を",
        "answer": "承知しました。",
        "corrected": f"〔氏名1〕様、{PHONE} までお電話ください。",  # the admin pasted a number back in
    }
    reviewed = post_form(client, "/feedback-data/review", f"/feedback-data/items/{item_id.group(1)}/review", edit)
    assert reviewed.status_code == 303 and "reviewed" in reviewed.headers["location"]

    download = client.get(f"/feedback-data/export?team_id={people.team_a}&since=2000-01-01")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    [row] = [json.loads(line) for line in archive.read("sft.jsonl").decode().splitlines()]
    assert row["messages"][-1]["content"] == "〔氏名1〕様、〔電話番号1〕 までお電話ください。"
    assert "license: CC-BY-4.0" in archive.read("README.md").decode()

    login(client, "amy@example.go.jp")
    withdrawn = post_form(client, "/feedback-data", f"/feedback-data/items/{item_id.group(1)}/withdraw", {})
    assert withdrawn.status_code == 303 and "withdrawn" in withdrawn.headers["location"]
    login(client, "alice@example.go.jp")
    again = zipfile.ZipFile(io.BytesIO(client.get("/feedback-data/export").content))
    assert archive.read("sft.jsonl") and again.read("sft.jsonl") == b""


def test_a_member_opts_out_and_a_bad_policy_is_shown_again(client: TestClient, people: Directory) -> None:
    login(client, "amy@example.go.jp")
    assert "提供を止める" in client.get("/feedback-data").text
    out = post_form(client, "/feedback-data", "/feedback-data/opt-out", {"opt_out": "1"})
    assert out.status_code == 303 and "提供を再開する" in client.get(out.headers["location"]).text
    assert client.get("/feedback-data/export").status_code == 403
    login(client, "alice@example.go.jp")
    bad = post_form(
        client, "/feedback-data/review", f"/feedback-data/teams/{people.team_a}/policy", {"max_classification": "7"}
    )
    assert bad.status_code == 400 and "機密性は 1〜3" in bad.text
    other = post_form(client, "/feedback-data/review", f"/feedback-data/teams/{people.team_b}/policy", {})
    assert other.status_code == 404
