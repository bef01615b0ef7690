"""Evaluation pages without JavaScript: the leaderboard with intervals, a run with its failed items
next to the reference, uploading a private set (a bad line shows the error and stores nothing),
and the arena's team choice."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from pages_support import Directory, csrf_from, post_form

from hiraga.store.database import Database
from hiraga.store.tables import EvalResult, EvalRun, EvalSet, ModelEndpoint


def completed_run(database: Database) -> int:
    with database.session() as db:
        run = EvalRun(suite="reading", suite_version="1", model="qwen-small", state="completed", item_limit=2)
        db.add(run)
        db.flush()
        db.add_all(
            [
                EvalResult(run_id=run.id, item_id="jsquad:q1", ordinal=0, prompt="p", reference="奈良", output="奈良",
                           score=1.0, latency_ms=120.0, cost_jpy=Decimal("0.1")),
                EvalResult(run_id=run.id, item_id="jaquad:q2", ordinal=1, prompt="p", reference="小笠原諸島",
                           output="北海道", score=0.0, latency_ms=80.0, cost_jpy=Decimal("0.1")),
            ]
        )  # fmt: skip
        return run.id


def test_leaderboard_and_run_pages_show_scores_intervals_and_failures(
    as_user, people: Directory, database: Database
) -> None:  # type: ignore[no-untyped-def]
    run_id = completed_run(database)
    client: TestClient = as_user("amy")
    board = client.get("/eval")
    assert board.status_code == 200
    assert "qwen-small" in board.text and "0.500" in board.text and "<svg" in board.text
    page = client.get(f"/eval/runs/{run_id}")
    assert page.status_code == 200
    assert "小笠原諸島" in page.text and "北海道" in page.text and "jaquad:q2" in page.text
    assert "jsquad:q1" not in page.text  # a right answer is not listed as a failure
    refused = post_form(client, f"/eval/runs/{run_id}", f"/eval/runs/{run_id}/cancel", {})
    assert refused.status_code == 403  # a member may not cancel a platform run


def test_a_team_admin_uploads_a_set_and_a_bad_line_keeps_nothing(
    as_user, people: Directory, database: Database
) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = as_user("alice")
    good = b'{"prompt": "\xe9\xa6\x96\xe9\x83\xbd\xe3\x81\xaf", "reference": "T", "scorer": "contains"}\n'
    fields = {"name": "窓口", "team_id": str(people.team_a), "classification": "2"}
    token = csrf_from(client.get("/eval/sets").text)
    bad = client.post(
        "/eval/sets", data={**fields, "csrf_token": token}, files={"file": ("s.jsonl", good + b"{no")},
        follow_redirects=False,
    )  # fmt: skip
    assert bad.status_code == 400 and "2 行目" in bad.text
    with database.session() as db:
        assert db.query(EvalSet).count() == 0
    token = csrf_from(client.get("/eval/sets").text)
    ok = client.post(
        "/eval/sets", data={**fields, "csrf_token": token}, files={"file": ("s.jsonl", good)}, follow_redirects=False
    )
    assert ok.status_code == 303
    listed = client.get("/eval/sets?notice=uploaded").text
    assert "窓口" in listed and "set:" in listed


def test_the_arena_page_offers_only_teams_that_switched_it_on(as_user, people: Directory) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = as_user("amy")
    assert "アリーナが有効なチームに所属していません" in client.get("/eval/arena").text


def test_the_developer_report_page_renders_the_markdown_report(as_user, people: Directory, database: Database) -> None:  # type: ignore[no-untyped-def]
    completed_run(database)
    page = as_user("amy").get("/eval/reports/qwen-small")
    assert page.status_code == 200
    assert "<h1>評価レポート: qwen-small</h1>" in page.text and "北海道" in page.text


def test_a_team_admin_starts_a_run_from_the_page_and_bad_input_keeps_nothing(
    as_user, people: Directory, database: Database
) -> None:  # type: ignore[no-untyped-def]
    with database.session() as db:  # a remote model the worker cannot reach (never the embedded one)
        db.add(
            ModelEndpoint(name="remote", provider="openai", base_url="https://models.example.com/v1", all_teams=True)
        )
    client: TestClient = as_user("alice")
    form = {"suite": "safety", "model": "remote", "limit": "0", "team_id": str(people.team_a)}
    refused = post_form(client, "/eval", "/eval/runs", form)
    assert refused.status_code == 400 and "件数は" in refused.text
    unknown = post_form(client, "/eval", "/eval/runs", {**form, "limit": "2", "model": "無いモデル"})
    assert unknown.status_code == 404 and "無いモデル" in unknown.text
    with database.session() as db:
        assert db.query(EvalRun).count() == 0
    started = post_form(client, "/eval", "/eval/runs", {**form, "limit": "2"})
    assert started.status_code == 303 and started.headers["location"].startswith("/eval/runs/")
    page = client.get(started.headers["location"])
    assert page.status_code == 200 and "safety" in page.text and "<progress" in page.text
    assert "実行する" not in as_user("amy").get("/eval").text  # a member sees results, starts nothing
