"""Reading the results: leaderboard (intervals, cost per 1,000 items, latency), comparing runs,
arena ratings and preference pairs, routing by task, and the developer report."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from gateway_world import World
from sqlalchemy import select

from hiraga.evaluation import arena, leaderboard, report, routing, runs
from hiraga.evaluation.base import suite_named
from hiraga.gateway import registry
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, EvalResult, EvalRun

from .conftest import OPERATOR


def finished_run(database: Database, suite: str, model: str, scores: list[float | None], cost: str = "0.5") -> int:
    """A completed run with one result per score (latency 100 ms × position)."""
    with database.session() as db:
        run = EvalRun(suite=suite, suite_version=suite_named(suite).version, model=model, state=runs.COMPLETED)
        db.add(run)
        db.flush()
        for i, score in enumerate(scores):
            db.add(
                EvalResult(
                    run_id=run.id, item_id=f"i{i}", ordinal=i, prompt="p", output="o", score=score,
                    latency_ms=100.0 * (i + 1), cost_jpy=Decimal(cost), reference="r",
                )
            )  # fmt: skip
        return run.id


def test_leaderboard_rows_carry_intervals_cost_and_latency(database: Database) -> None:
    strong = finished_run(database, "reading", "stub-a", [1.0] * 18 + [0.0, None])
    finished_run(database, "reading", "stub-b", [0.0] * 15 + [1.0] * 5)
    with database.session() as db:
        rows = leaderboard.board(db, OPERATOR, "reading")
    assert [r.model for r in rows] == ["stub-a", "stub-b"]
    best = rows[0]
    assert best.run_id == strong and best.items == 20 and best.failed == 1
    assert best.score == pytest.approx(18 / 19)
    assert best.low <= best.score <= best.high and best.high <= 1.0
    assert best.cost_per_1000_jpy == Decimal("500.00")
    assert (best.latency_p50_ms, best.latency_p95_ms) == (1000.0, 1900.0)
    assert rows[1].high < best.low  # clearly apart


def test_only_the_latest_completed_run_of_the_current_version_counts(database: Database) -> None:
    finished_run(database, "reading", "stub-a", [0.0] * 5)
    newest = finished_run(database, "reading", "stub-a", [1.0] * 5)
    with database.session() as db:
        db.add(EvalRun(suite="reading", suite_version="0-old", model="stub-c", state=runs.COMPLETED))
        db.add(EvalRun(suite="reading", suite_version="1", model="stub-d", state=runs.PAUSED))
    with database.session() as db:
        assert [(r.model, r.run_id) for r in leaderboard.board(db, OPERATOR)] == [("stub-a", newest)]


def test_compare_flags_a_regression(database: Database) -> None:
    before = finished_run(database, "reading", "stub-a", [1.0] * 20)
    after = finished_run(database, "reading", "stub-a", [1.0] * 10 + [0.0] * 10)
    with database.session() as db:
        found = leaderboard.compare(db, OPERATOR, before, after)
        same = leaderboard.compare(db, OPERATOR, before, before)
    assert found.difference == pytest.approx(-0.5) and found.regression
    assert found.worse_items == [f"i{i}" for i in range(10, 20)]
    assert not same.regression and same.difference == 0.0


def test_bradley_terry_orders_models_by_preferences() -> None:
    rng = random.Random(1)
    games = [("a", "b", 1.0 if rng.random() < 0.8 else 0.0) for _ in range(60)]
    games += [("b", "c", 1.0 if rng.random() < 0.8 else 0.0) for _ in range(60)]
    games += [("a", "c", 0.5) for _ in range(4)]
    found = arena.ratings(games, resamples=30)
    assert [r.model for r in found] == ["a", "b", "c"]
    assert all(r.low <= r.rating <= r.high for r in found)
    assert found[0].battles == 64
    # equal strength → equal ratings
    even = arena.bradley_terry([("x", "y", 1.0), ("x", "y", 0.0)])
    assert even["x"] == pytest.approx(even["y"])


def test_arena_votes_become_preference_pairs(database: Database, world: World) -> None:
    with database.session() as db:
        arena.set_enabled(db, OPERATOR, world.team_a, True)
        assert arena.is_enabled(db, world.team_a) and not arena.is_enabled(db, world.team_b)
        first = arena.store_battle(
            db, OPERATOR, team_id=world.team_a, task="summarise", classification=1, prompt="要約して",
            answers=[("stub-a", "良い要約"), ("stub-b", "悪い要約")],
        )  # fmt: skip
        tie = arena.store_battle(
            db, OPERATOR, team_id=world.team_a, task="summarise", classification=1, prompt="もう一つ",
            answers=[("stub-b", "x"), ("stub-a", "y")],
        )  # fmt: skip
        arena.vote(db, OPERATOR, first.id, "a")
        arena.vote(db, OPERATOR, tie.id, "tie")
        with pytest.raises(Exception, match="既に投票"):
            arena.vote(db, OPERATOR, first.id, "b")
        pairs = arena.preference_pairs(db)
        assert arena.outcomes(db, "summarise") == [("stub-a", "stub-b", 1.0), ("stub-b", "stub-a", 0.5)]
    assert [(p.prompt, p.chosen, p.rejected, p.chosen_model, p.rejected_model) for p in pairs] == [
        ("要約して", "良い要約", "悪い要約", "stub-a", "stub-b")
    ]


def test_routing_by_task_ranks_measured_models_within_the_cost_ceiling(
    database: Database, models: tuple[str, str]
) -> None:
    finished_run(database, "summary-fidelity", "stub-a", [0.9] * 10, cost="2")  # better, 2,000 JPY / 1,000
    finished_run(database, "summary-fidelity", "stub-b", [0.6] * 10, cost="0.1")
    with database.session() as db:
        view = routing.set_task_route(db, OPERATOR, task="summarise", alias="auto-summarise")
        assert [m.endpoint for m in view.members] == ["stub-a", "stub-b"]
        cheap = routing.set_task_route(
            db, OPERATOR, task="summarise", alias="auto-summarise", max_cost_per_1000=Decimal(500)
        )
        assert [m.endpoint for m in cheap.members] == ["stub-b"]
        pinned = routing.set_task_route(
            db, OPERATOR, task="summarise", alias="auto-summarise", max_cost_per_1000=Decimal(500), pin="stub-a"
        )
        assert [m.endpoint for m in pinned.members] == ["stub-a", "stub-b"]
        assert [m.endpoint for m in registry.alias_view(db, "auto-summarise").members] == ["stub-a", "stub-b"]
        reasons = db.scalars(select(AuditRecord.detail).where(AuditRecord.action == "eval_route_set")).all()
    assert len(reasons) == 3 and "over_cost_ceiling" in reasons[1]


def test_the_developer_report_names_the_model_and_shows_failures_and_safety_findings(database: Database) -> None:
    finished_run(database, "reading", "stub-a", [1.0, 0.0, None])
    with database.session() as db:
        run = EvalRun(suite="safety", suite_version="1", model="stub-a", state=runs.COMPLETED)
        db.add(run)
        db.flush()
        db.add(
            EvalResult(
                run_id=run.id, item_id="forge-1", ordinal=0, prompt="p", output="手順は…", score=0.0,
                detail_json='{"declined": false, "finding": "answered_harmful"}',
            )
        )  # fmt: skip
    with database.session() as db:
        found = report.model_report(db, OPERATOR, "stub-a")
    assert found["model"] == "stub-a" and {s["suite"] for s in found["suites"]} == {"reading", "safety"}
    assert found["safety_findings"] == [{"item": "forge-1", "finding": "answered_harmful", "output": "手順は…"}]
    assert [e["item"] for e in found["failure_examples"]["reading"]] == ["i2", "i1", "i0"]
    text = report.markdown(found)
    assert "# 評価レポート: stub-a" in text and "answered_harmful" in text and "自動採点" in text
