"""PII masking for runs of registered apps marked ``external``, end to end on SQLite and PostgreSQL
against the reference app (a real process, echo variants that log what they received): the app gets
placeholders, never the values (form text, chat history, text files in UTF-8 or Shift_JIS), one
placeholder map for the whole run; the user's outputs have the values back (also through async
polling); binary files pass untouched; internal apps get the raw values; the audit record holds
counts per kind and no values."""

from __future__ import annotations

import base64
import json
from typing import Any

import sqlalchemy as sa
from app_world import ReferenceApp, World, registration
from fastapi.testclient import TestClient

from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord

NAME, PHONE, EMAIL = "山田太郎", "03-1234-5678", "taro.yamada@example.jp"
PLANTED = (NAME, PHONE, EMAIL)
LETTER = f"{NAME}様、お問い合わせありがとうございます。折り返し {PHONE} までお電話ください。"
BINARY = b"%PDF-1.4\n\x00\x01\x02" + EMAIL.encode() + b"\xff\xfe"


def register(client: TestClient, world: World, app: ReferenceApp, variant: str, **fields: Any) -> dict[str, Any]:
    body = registration(app, variant, world.team_a, **({"status": "published", "chat": True} | fields))
    response = client.post("/api/v1/apps", json=body, headers=world.auth("admin_a"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def run(client: TestClient, world: World, app: dict[str, Any], reference: ReferenceApp) -> tuple[Any, list[Any]]:
    """Run ``app`` with the planted values; (the run as the user sees it, what the app received)."""
    already = len(reference.log.read_bytes())
    body = {
        "inputs": {"input_text": f"{NAME}様、連絡先は {EMAIL} です。", "count": 2},
        "chat_history": [
            {"role": "user", "content": f"{NAME}様、電話番号は {PHONE} です。"},
            {"role": "assistant", "content": "承知しました。"},
        ],
        "files": {
            "doc": [
                {"filename": "letter.txt", "content": base64.b64encode(LETTER.encode("cp932")).decode()},
                {"filename": "scan.pdf", "content": base64.b64encode(BINARY).decode()},
            ]
        },
    }
    response = client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("member_a"))
    assert response.status_code == 201, response.text
    lines = reference.log.read_bytes()[already:].decode().splitlines()
    received = [json.loads(line)["received"] for line in lines if line.startswith('{"received"')]
    return response.json(), received


def files_of(received: dict[str, Any]) -> dict[str, bytes]:
    return {f["filename"]: base64.b64decode(f["content"]) for g in received["files"] for f in g["files"]}


def audit_details(database: Database, slug: str) -> list[str]:
    with database.session() as db:
        query = sa.select(AuditRecord.detail).where(AuditRecord.action == "app_run", AuditRecord.model == f"app:{slug}")
        return list(db.scalars(query))


def test_an_external_app_receives_placeholders_and_the_user_gets_the_values_back(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "echo", external=True)
    shown, received = run(client, world, app, reference_app)
    assert len(received) == 1
    sent = json.dumps(received[0], ensure_ascii=False)
    assert not [value for value in PLANTED if value in sent]
    letter = files_of(received[0])["letter.txt"].decode("cp932")  # masked, still Shift_JIS
    assert not [value for value in PLANTED if value in letter]
    name = received[0]["input_text"].split("〕")[0] + "〕"
    assert name.startswith("〔氏名")  # one map: the same placeholder in every field, turn and file
    assert received[0]["chat_history"][0]["content"].startswith(name)
    assert letter.startswith(name) and "〔電話番号1〕" in letter
    assert files_of(received[0])["scan.pdf"] == BINARY  # binary: untouched, as documented
    assert shown["status"] == "ok"
    assert all(value in shown["outputs"] for value in PLANTED)
    assert "〔" not in shown["outputs"].replace(EMAIL, "")  # every placeholder was put back
    [detail] = audit_details(database, app["slug"])
    facts = json.loads(detail)
    assert facts["pii"]["policy"] == "mask"
    assert facts["pii"]["counts"]["person_name"] >= 3
    assert facts["pii"]["counts"]["phone_number"] == 2
    assert facts["pii"]["counts"]["email"] == 1
    assert not [value for value in PLANTED if value in detail]


def test_async_external_apps_get_their_completed_outputs_restored(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "async-echo", external=True, mode="async")
    shown, received = run(client, world, app, reference_app)
    assert not [value for value in PLANTED if value in json.dumps(received, ensure_ascii=False)]
    assert shown["status"] == "ok"
    assert all(value in shown["outputs"] for value in PLANTED)
    [detail] = audit_details(database, app["slug"])
    assert json.loads(detail)["pii"]["counts"]["email"] == 1


def test_an_internal_app_receives_the_values_as_they_are(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "echo", external=False)
    shown, received = run(client, world, app, reference_app)
    assert received[0]["input_text"] == f"{NAME}様、連絡先は {EMAIL} です。"
    assert received[0]["chat_history"][0]["content"] == f"{NAME}様、電話番号は {PHONE} です。"
    assert files_of(received[0])["letter.txt"] == LETTER.encode("cp932")
    assert "〔" not in shown["outputs"]
    [detail] = audit_details(database, app["slug"])
    assert "pii" not in json.loads(detail)
