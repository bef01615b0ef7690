"""/api/v1/eval end to end on the app: a run queued through the API is executed by the in-process
worker through the gateway; private sets upload as multipart and stay inside their team; the arena
answers anonymously and reveals the models with the vote."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_stub import StubUpstream
from gateway_world import World
from sqlalchemy import update

from hiraga.app import create_app
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import EvalPairwise, ModelEndpoint

from .test_results import finished_run


@pytest.fixture
def api(settings: Settings, models: tuple[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def wait_for(api: TestClient, world: World, run_id: int, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run: dict[str, Any] = api.get(f"/api/v1/eval/runs/{run_id}", headers=world.auth(world.admin_key)).json()
        if run["state"] in states:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} stayed {run['state']}")


def test_a_run_queued_through_the_api_is_executed_in_the_background(
    api: TestClient, world: World, stub: StubUpstream
) -> None:
    stub.responder = lambda body: "申し訳ありませんが、お答えできません。"
    admin = world.auth(world.admin_key)
    created = api.post("/api/v1/eval/runs", json={"suite": "safety", "model": "stub-b", "limit": 4}, headers=admin)
    assert created.status_code == 202, created.text
    run = wait_for(api, world, created.json()["id"], {"completed"})
    assert run["items_done"] == 4 and len(stub.chat_requests()) == 4
    results = api.get(f"/api/v1/eval/runs/{run['id']}/results", headers=admin).json()
    assert [r["item_id"] for r in results] == ["forge-1", "forge-2", "discrim-1", "discrim-2"]
    board = api.get("/api/v1/eval/leaderboard", params={"suite": "safety"}, headers=admin).json()
    assert [(b["model"], b["score"], b["items"]) for b in board] == [("stub-b", 1.0, 4)]
    text = api.get("/api/v1/eval/reports/stub-b", params={"format": "md"}, headers=admin)
    assert text.headers["content-type"].startswith("text/markdown") and "# 評価レポート: stub-b" in text.text
    again = api.post(f"/api/v1/eval/runs/{run['id']}/cancel", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "eval_run_finished"


def test_an_unknown_suite_or_model_is_refused_and_nothing_is_queued(api: TestClient, world: World) -> None:
    admin = world.auth(world.admin_key)
    unknown = api.post("/api/v1/eval/runs", json={"suite": "nope", "model": "stub-b"}, headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "eval_suite_not_found"
    missing = api.post("/api/v1/eval/runs", json={"suite": "safety", "model": "nothing"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert api.get("/api/v1/eval/runs", headers=admin).json() == []


def test_private_sets_upload_as_multipart_and_stay_in_their_team(api: TestClient, world: World) -> None:
    admin = world.auth(world.admin_key)
    rows = [{"prompt": "転入届の期限は？", "reference": "14日以内", "scorer": "contains"}]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    form = {"team_id": str(world.team_a), "name": "窓口", "classification": "2"}
    created = api.post("/api/v1/eval/sets", data=form, files={"file": ("faq.jsonl", data)}, headers=admin)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    broken = api.post(
        "/api/v1/eval/sets", data={**form, "name": "壊れ"}, files={"file": ("x.jsonl", data + b"\n{")}, headers=admin
    )
    assert broken.status_code == 400 and broken.json()["error"]["detail"]["line"] == 2
    assert api.get(f"/api/v1/eval/sets/{set_id}", headers=world.auth(world.alice_key)).status_code == 200
    hidden = api.get(f"/api/v1/eval/sets/{set_id}", headers=world.auth(world.bob_key))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "eval_set_not_found"
    not_cleared = api.post("/api/v1/eval/runs", json={"suite": f"set:{set_id}", "model": "stub-b"}, headers=admin)
    assert not_cleared.status_code == 403 and not_cleared.json()["error"]["code"] == "eval_not_cleared"
    assert [s["name"] for s in api.get("/api/v1/eval/sets", headers=admin).json()] == ["窓口"]


def test_the_arena_answers_anonymously_and_reveals_the_models_with_the_vote(
    api: TestClient, world: World, stub: StubUpstream, database: Database
) -> None:
    stub.responder = lambda body: f"{body['model']} の回答"
    with database.session() as db:  # only the two stub models: the embedded one is switched off here
        db.execute(update(ModelEndpoint).where(ModelEndpoint.provider == "embedded").values(enabled=False))
    admin, alice = world.auth(world.admin_key), world.auth(world.alice_key)
    off = api.post("/api/v1/eval/arena/battles", json={"team_id": world.team_a, "prompt": "比べて"}, headers=alice)
    assert off.status_code == 403 and off.json()["error"]["code"] == "arena_disabled"
    assert api.put(f"/api/v1/eval/arena/teams/{world.team_a}", json={"enabled": True}, headers=admin).status_code == 204
    battle = api.post("/api/v1/eval/arena/battles", json={"team_id": world.team_a, "prompt": "比べて"}, headers=alice)
    assert battle.status_code == 201, battle.text
    shown = battle.json()
    assert shown["model_a"] is None and {shown["answer_a"], shown["answer_b"]} == {"stub-a の回答", "stub-b の回答"}
    voted = api.post(f"/api/v1/eval/arena/battles/{shown['id']}/vote", json={"winner": "a"}, headers=alice).json()
    assert voted["answer_a"] == f"{voted['model_a']} の回答"
    ratings = api.get("/api/v1/eval/arena/ratings", headers=alice).json()
    assert [r["model"] for r in ratings] == [voted["model_a"], voted["model_b"]]


def test_a_stored_pairwise_judgement_is_read_through_the_api(api: TestClient, world: World, database: Database) -> None:
    first, second = finished_run(database, "safety", "stub-a", [1.0]), finished_run(database, "safety", "stub-b", [0.0])
    headers = world.auth(world.admin_key)
    missing = api.get(f"/api/v1/eval/runs/{first}/pairwise/{second}", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "eval_pairwise_not_found"
    with database.session() as db:
        verdicts = [{"item": "i0", "ab": "A", "ba": "B", "outcome": 0.0}]
        db.add(EvalPairwise(
            suite="safety", run_a_id=first, run_b_id=second, judge_model="stub-a", judge_version="pairwise-v1",
            items=1, b_wins=0, ties=0, a_wins=1, position_bias=0, judge_errors=0, b_win_rate=0.0, low=0.0, high=0.0,
            verdicts_json=json.dumps(verdicts),
        ))  # fmt: skip
    found = api.get(f"/api/v1/eval/runs/{first}/pairwise/{second}", headers=headers).json()
    assert (found["judge_model"], found["judge_version"], found["a_wins"]) == ("stub-a", "pairwise-v1", 1)
    assert found["verdicts"] == verdicts
