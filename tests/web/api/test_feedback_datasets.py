"""/api/v1/feedback-datasets end to end: a team admin turns training use on, a member rates a reply
and a task app's output, the admin reviews and downloads the export; refusals change nothing."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from hiraga.feedback_data import collect
from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import Conversation, DatasetItem, Message

from .world import World

NAME, PHONE = "鈴木一郎", "090-1234-5678"
BASE = "/api/v1/feedback-datasets"


def reply_of(database: Database, user_id: int) -> tuple[int, int]:
    with database.session() as db:
        conversation = Conversation(user_id=user_id, title="問い合わせ", model="default", classification=1)
        db.add(conversation)
        db.flush()
        db.add(Message(conversation_id=conversation.id, position=0, role="user", content=f"{NAME}さんへの返信を"))
        answer = Message(
            conversation_id=conversation.id, position=1, role="assistant", content=f"{NAME}様 {PHONE}", model_name="m1"
        )
        db.add(answer)
        db.flush()
        return conversation.id, answer.id


def test_consent_feedback_review_and_download(
    client: TestClient, database: Database, world: World, settings: Settings
) -> None:
    member, admin = world.headers("member"), world.headers("team_admin")
    team = world.team["own"]
    shown = client.get(f"{BASE}/policies/{team}", headers=member).json()
    assert shown["training_use"] is False and "使いません" in shown["description"]
    changed = client.put(f"{BASE}/policies/{team}", json={"training_use": True, "licence": "CC-BY-4.0"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["max_classification"] == 1

    conversation_id, message_id = reply_of(database, world.actors["member"].user_id)
    rated = client.put(
        f"/api/v1/conversations/{conversation_id}/messages/{message_id}/feedback",
        json={"rating": "bad", "corrected_answer": f"{NAME}様、{PHONE} にご連絡します。"},
        headers=member,
    )
    assert rated.status_code == 200, rated.text
    [item] = client.get(f"{BASE}/items", headers=admin).json()
    assert item["findings"] == {"person_name": 3, "phone_number": 2} and NAME not in json.dumps(
        item, ensure_ascii=False
    )
    assert client.get(f"{BASE}/export", headers=member).status_code == 403
    refused = client.post(f"{BASE}/items/{item['id']}/review", json={"decision": "approve"}, headers=member)
    assert refused.status_code == 403
    approved = client.post(f"{BASE}/items/{item['id']}/review", json={"decision": "approve"}, headers=admin)
    assert approved.json()["status"] == "approved"

    download = client.get(f"{BASE}/export", headers=admin)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert sorted(archive.namelist()) == ["README.md", "kto.jsonl", "preference.jsonl", "sft.jsonl"]
    [pair] = [json.loads(line) for line in archive.read("preference.jsonl").decode().splitlines()]
    assert pair["chosen"][0]["content"] == "〔氏名1〕様、〔電話番号1〕 にご連絡します。"
    assert pair["rejected"][0]["content"] == "〔氏名1〕様 〔電話番号1〕"
    report = client.get(f"{BASE}/report", headers=admin).json()
    assert report == [
        {
            "model": "m1",
            "tasks": [
                {
                    "task": "chat",
                    "good": 0,
                    "bad": 1,
                    "corrected": 1,
                    "preferred": 0,
                    "good_rate": 0.0,
                    "failures": {},
                    "inferred": {},
                    "uncategorised": 1,  # a 👎 without a category or a comment
                }
            ],
            "complaints": [],
        }
    ]
    assert not list((settings.data_dir / "exports").iterdir())  # the download's files are removed after it


def test_task_output_feedback_with_the_portals_receipt(
    client: TestClient, database: Database, world: World, settings: Settings
) -> None:
    client.put(f"{BASE}/policies/{world.team['own']}", json={"training_use": True}, headers=world.headers("team_admin"))
    member = world.actors["member"]
    principal = Principal(user_id=member.user_id, email="member@a.example.jp", display_name="member")
    at = datetime.now(UTC)
    prompt = [{"role": "user", "content": "次の文を要約してください: 会議は 10 時からです。"}]
    output = collect.Output("summarise", prompt, "会議は 10 時開始。", "m1", "default", 1, at)
    body = {
        "receipt": collect.receipt_for(settings.secret(), principal, output),
        "task": "summarise",
        "prompt": prompt,
        "answer": "会議は 10 時開始。",
        "model_name": "m1",
        "endpoint": "default",
        "classification": 1,
        "answered_at": at.isoformat(),
        "rating": "good",
    }
    accepted = client.post(f"{BASE}/task-outputs", json=body, headers=world.headers("member"))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["status"] == "pending"
    forged = client.post(f"{BASE}/task-outputs", json={**body, "answer": "捏造"}, headers=world.headers("member"))
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "output_not_found"
    with database.session() as db:
        assert [i.task for i in db.scalars(select(DatasetItem))] == ["summarise"]


def test_task_run_feedback_takes_the_prompt_from_the_run_and_checks_the_category(
    client: TestClient, database: Database, world: World
) -> None:
    from hiraga.portal import task_history

    client.put(f"{BASE}/policies/{world.team['own']}", json={"training_use": True}, headers=world.headers("team_admin"))
    member = world.actors["member"]
    owner = Principal(user_id=member.user_id, email="member@a.example.jp", display_name="member")
    sent = [{"role": "system", "content": "翻訳者です。"}, {"role": "user", "content": "会議は 10 時からです。"}]
    record = task_history.RunRecord("ok", "The meeting starts at 10.", ["m1"], prompt=sent, classification=1)
    with database.session() as db:
        run_id = task_history.keep(db, owner, "translate", "会議は", record)
    url = f"{BASE}/task-runs/translate/{run_id}"
    unknown = client.put(url, json={"rating": "bad", "category": "typo"}, headers=world.headers("member"))
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_feedback_category"
    assert "分類" in unknown.json()["error"]["message"]
    with_good = client.put(url, json={"rating": "good", "category": "format"}, headers=world.headers("member"))
    assert with_good.status_code == 400
    with database.session() as db:
        assert list(db.scalars(select(DatasetItem))) == []  # refusals change nothing
    given = client.put(url, json={"rating": "bad", "comment": "時刻の数字が違う"}, headers=world.headers("member"))
    assert given.status_code == 200, given.text
    assert (given.json()["category"], given.json()["category_inferred"]) == ("numbers", True)
    elsewhere = client.put(
        f"{BASE}/task-runs/summarise/{run_id}", json={"rating": "good"}, headers=world.headers("member")
    )
    assert elsewhere.status_code == 404  # a run is found under its own app only
    with database.session() as db:
        [item] = db.scalars(select(DatasetItem))
        assert (item.task, item.category, item.category_inferred, item.task_run_id) == (
            "translate",
            "numbers",
            True,
            run_id,
        )
        assert json.loads(item.content)["prompt"] == sent
