"""/api/v1/apps end to end on SQLite and PostgreSQL, against the reference app (a real process):
registration rules, the key kept encrypted, visibility by team, runs with cost roll-up into team
usage, audit records for successes and failures, and bad input that changes nothing."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from app_world import ReferenceApp, World, registration
from fastapi.testclient import TestClient

from hiraga.store.database import Database
from hiraga.store.tables import AppRun, AuditRecord, RegisteredApp, UsageRecord


def register(client: TestClient, world: World, app: ReferenceApp, variant: str, **fields: Any) -> dict[str, Any]:
    body = registration(app, variant, world.team_a, **({"status": "published"} | fields))
    response = client.post("/api/v1/apps", json=body, headers=world.auth("admin_a"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def rows(database: Database, table: Any, *where: Any) -> list[Any]:
    with database.session() as db:
        return list(db.scalars(sa.select(table).where(*where)))


def test_team_admin_registers_and_the_key_is_encrypted_at_rest(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "sync")
    assert app["has_api_key"] is True and "api_key" not in app
    assert app["form_definition"]["count"]["max"] == 5
    stored = rows(database, RegisteredApp)[0]
    assert stored.api_key_encrypted and reference_app.key not in stored.api_key_encrypted
    audit = rows(database, AuditRecord, AuditRecord.action == "app_register")
    assert [(a.outcome, a.actor_user_id) for a in audit] == [("ok", world.users["admin_a"])]


def test_members_of_other_teams_cannot_see_or_register(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "sync")
    assert [a["id"] for a in client.get("/api/v1/apps", headers=world.auth("member_a")).json()] == [app["id"]]
    assert client.get("/api/v1/apps", headers=world.auth("member_b")).json() == []
    assert client.get(f"/api/v1/apps/{app['id']}", headers=world.auth("member_b")).status_code == 404
    run = client.post(
        f"/api/v1/apps/{app['id']}/runs", json={"inputs": {"input_text": "x"}}, headers=world.auth("member_b")
    )
    assert run.status_code == 404
    body = registration(reference_app, "error400", world.team_a)
    refused = client.post("/api/v1/apps", json=body, headers=world.auth("member_a"))
    assert refused.status_code == 403 and refused.json()["error"]["message"]
    assert len(rows(database, RegisteredApp)) == 1


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"form_definition": {"x": {"type": "slider", "title": "x"}}}, "form_definition", "slider"),
        ({"form_definition": {"n": {"type": "number", "title": "n", "min": 5, "max": 1}}}, "form_definition", "最小値"),
        ({"form_definition": {"s": {"type": "select", "title": "s", "options": []}}}, "form_definition", "options"),
        ({"form_definition": {"f": {"type": "file", "title": "f", "accept": ["pdf"]}}}, "form_definition", ".pdf"),
        ({"endpoint_url": "http://10.0.0.9/app"}, "endpoint_url", "内部向け"),
        ({"endpoint_url": "ftp://example.jp/app"}, "endpoint_url", "http://"),
    ],
)
def test_bad_registrations_are_refused_in_japanese_audited_and_leave_nothing(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp, change, field, words
):
    body = registration(reference_app, "sync", world.team_a) | change
    response = client.post("/api/v1/apps", json=body, headers=world.auth("admin_a"))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert words in error["message"] and error["detail"]["field"] == field
    assert rows(database, RegisteredApp) == []
    audit = rows(database, AuditRecord, AuditRecord.action == "app_register")
    assert [(a.outcome, a.error_code) for a in audit] == [("refused", error["code"])]


def test_a_run_rolls_its_cost_into_the_team_usage_and_history(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "sync")
    doc = base64.b64encode(b"hello").decode()
    body = {
        "inputs": {"input_text": "本日の議題", "count": 2},
        "files": {"doc": [{"filename": "a.txt", "content": doc}]},
    }
    response = client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("member_a"))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "ok" and "本日の議題" in run["outputs"]
    assert (run["input_tokens"], run["output_tokens"], Decimal(run["cost_jpy"])) == (110, 55, Decimal("1.75"))
    usage = rows(database, UsageRecord, UsageRecord.source == "app:sync")
    assert sorted((u.model, u.team_id, u.user_id) for u in usage) == [
        ("model-a", world.team_a, world.users["member_a"]),
        ("model-b", world.team_a, world.users["member_a"]),
    ]
    totals = client.get("/api/v1/usage/totals", params={"group_by": "team"}, headers=world.auth("admin_a")).json()
    team_total = next(t for t in totals if t["key"] == str(world.team_a))
    assert Decimal(team_total["cost_jpy"]) == Decimal("1.75")
    audit = rows(database, AuditRecord, AuditRecord.action == "app_run")
    assert [(a.outcome, a.team_id, a.model) for a in audit] == [("ok", world.team_a, "app:sync")]
    history = client.get(f"/api/v1/apps/{app['id']}/runs", headers=world.auth("member_a")).json()
    assert [h["id"] for h in history] == [run["id"]]
    assert client.get(f"/api/v1/apps/{app['id']}/runs", headers=world.auth("admin_a")).json() == []


@pytest.mark.parametrize(
    ("variant", "status", "code"),
    [
        ("error500", 502, "app_error"),
        ("nonjson", 502, "app_not_json"),
        ("async-foreign", 502, "app_status_url_refused"),
    ],
)
def test_failed_runs_are_audited_kept_as_failed_and_cost_nothing(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp, variant, status, code
):
    app = register(client, world, reference_app, variant)
    response = client.post(
        f"/api/v1/apps/{app['id']}/runs", json={"inputs": {"input_text": "x"}}, headers=world.auth("member_a")
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    [run] = rows(database, AppRun)
    assert (run.status, run.error_code, run.id) == ("failed", code, error["detail"]["run_id"])
    assert rows(database, UsageRecord) == []
    [audit] = rows(database, AuditRecord, AuditRecord.action == "app_run")
    assert (audit.outcome, audit.error_code) == ("failed", code)


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({}, "「本文」は必須です"),
        ({"input_text": "x", "count": 9}, "1〜5"),
        ({"input_text": "x", "tone": "関西弁"}, "選択肢にない"),
        ({"input_text": "x", "unknown": 1}, "unknown"),
    ],
)
def test_bad_inputs_are_refused_before_any_call_and_only_audited(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp, inputs, words
):
    app = register(client, world, reference_app, "sync")
    before = len(reference_app.requests())
    response = client.post(f"/api/v1/apps/{app['id']}/runs", json={"inputs": inputs}, headers=world.auth("member_a"))
    assert response.status_code == 400 and words in response.json()["error"]["message"]
    assert rows(database, AppRun) == [] and rows(database, UsageRecord) == []
    assert len(reference_app.requests()) == before
    [audit] = rows(database, AuditRecord, AuditRecord.action == "app_run")
    assert audit.outcome == "refused"


def test_files_are_checked_against_the_definition(client: TestClient, world: World, reference_app: ReferenceApp):
    app = register(client, world, reference_app, "files")
    exe = {"doc": [{"filename": "a.exe", "content": base64.b64encode(b"MZ").decode()}]}
    response = client.post(
        f"/api/v1/apps/{app['id']}/runs",
        json={"inputs": {"input_text": "x"}, "files": exe},
        headers=world.auth("member_a"),
    )
    assert response.status_code == 400 and ".txt" in response.json()["error"]["message"]


def test_drafts_only_run_as_test_calls_by_their_admins(client: TestClient, world: World, reference_app: ReferenceApp):
    app = register(client, world, reference_app, "sync", status="draft")
    body = {"inputs": {"input_text": "x"}}
    assert client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("member_a")).status_code == 404
    draft = client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("admin_a"))
    assert draft.status_code == 403 and "テスト実行" in draft.json()["error"]["message"]
    test = client.post(f"/api/v1/apps/{app['id']}/runs", json=body | {"test_call": True}, headers=world.auth("admin_a"))
    assert test.status_code == 201 and test.json()["test_call"] is True
    published = client.patch(f"/api/v1/apps/{app['id']}", json={"status": "published"}, headers=world.auth("admin_a"))
    assert published.json()["status"] == "published"
    assert client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("member_a")).status_code == 201


def test_the_team_budget_refuses_app_runs_too(
    client: TestClient, database: Database, world: World, reference_app: ReferenceApp
):
    app = register(client, world, reference_app, "sync")
    limit = {"scope": "team", "subject_id": world.team_a, "metric": "cost_jpy", "window": "day", "amount": 1}
    assert client.post("/api/v1/limits", json=limit, headers=world.auth("root")).status_code == 201
    body = {"inputs": {"input_text": "x"}}
    first = client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("member_a"))
    assert first.status_code == 201  # admitted (nothing spent yet); its 1.75 円 is counted afterwards
    second = client.post(f"/api/v1/apps/{app['id']}/runs", json=body, headers=world.auth("member_a"))
    assert second.status_code == 429 and "利用料金上限" in second.json()["error"]["message"]
    assert [r.status for r in rows(database, AppRun)] == ["ok", "failed"]
