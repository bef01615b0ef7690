"""Dashboard numbers computed from seeded usage rows: exact sums by team, user, model, app and
day (Japan time), budget consumption, and the adoption rate per team and organisation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hiraga.dashboards import adoption, budgets, usage_stats
from hiraga.dashboards.overview import usage_csv
from hiraga.dashboards.period import month_period
from hiraga.errors import Forbidden, InvalidInput
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import LimitDefinition, TeamRole, UsageRecord
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow

ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))
NOW = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)  # 12:00 JST
AUDITOR = AccessScope(Principal(user_id=0, email="a@x", display_name="監査", is_auditor=True))


def usage(
    user: int, team: int | None, at: datetime, tokens: tuple[int, int], cost: str, model: str, source: str
) -> UsageRecord:
    return UsageRecord(
        request_id=uuid.uuid4().hex, created_at=at, user_id=user, team_id=team, kind="chat", model=model,
        input_tokens=tokens[0], output_tokens=tokens[1], estimated=False, cost_jpy=Decimal(cost), outcome="ok",
        source=source,
    )  # fmt: skip


@pytest.fixture
def seeded(database: Database) -> dict[str, int]:
    """Org 本省 with 企画課 (3 members) and 総務課 (2 members); org 出先 with 窓口課 (1 member)."""
    with database.session() as db:
        main = directory.create_organisation(db, ROOT, "本省")
        branch = directory.create_organisation(db, ROOT, "出先")
        plan = directory.create_team(db, ROOT, main.id, "企画課").id
        general = directory.create_team(db, ROOT, main.id, "総務課").id
        desk = directory.create_team(db, ROOT, branch.id, "窓口課").id
        ids = {"plan": plan, "general": general, "desk": desk}
        for name, team in (("u1", plan), ("u2", plan), ("u3", plan), ("u4", general), ("u5", general), ("u6", desk)):
            user = directory.create_user(db, ROOT, email=f"{name}@example.go.jp", password=None, display_name=name)
            directory.set_membership(db, ROOT, team, user.id, TeamRole.MEMBER)
            ids[name] = user.id
        inactive = directory.create_user(db, ROOT, email="gone@example.go.jp", password=None)
        directory.set_membership(db, ROOT, plan, inactive.id, TeamRole.MEMBER)
        inactive.is_active = False
        day1 = datetime(2026, 4, 1, 15, 30, tzinfo=UTC)  # 2026-04-02 00:30 JST
        db.add_all([
            usage(ids["u1"], plan, day1, (100, 50), "1.25", "llm-jp-4", "portal"),
            usage(ids["u1"], plan, day1 + timedelta(hours=2), (200, 10), "2.50", "gpt-x", "app:要約"),
            usage(ids["u2"], plan, NOW - timedelta(hours=1), (10, 5), "0.125", "llm-jp-4", "app:要約"),
            usage(ids["u4"], general, NOW - timedelta(days=1), (1000, 400), "10.00", "gpt-x", "app:翻訳"),
            usage(ids["u6"], desk, datetime(2026, 3, 31, 15, 0, tzinfo=UTC), (7, 7), "0.70", "llm-jp-4", "api"),
            usage(ids["u4"], general, datetime(2026, 2, 1, tzinfo=UTC), (5, 5), "9.99", "gpt-x", "portal"),
        ])  # fmt: skip
        db.add(LimitDefinition(scope=LimitScope.TEAM, subject_id=plan, metric=LimitMetric.COST_JPY,
                               window=LimitWindow.MONTH, amount=Decimal("10")))  # fmt: skip
        db.add(LimitDefinition(scope=LimitScope.TEAM, subject_id=general, metric=LimitMetric.TOKENS,
                               window=LimitWindow.DAY, amount=Decimal("1000")))  # fmt: skip
    return ids


def test_usage_by_every_dimension_sums_exactly(database: Database, seeded: dict[str, int]) -> None:
    april = month_period("2026-04")
    with database.session() as db:
        by = {dim: usage_stats.usage_by(db, AUDITOR, april, dim) for dim in usage_stats.DIMENSIONS}
    team = {r.label: (r.requests, r.input_tokens, r.output_tokens, r.cost_jpy) for r in by["team"]}
    assert team == {
        "企画課": (3, 310, 65, Decimal("3.875")),
        "総務課": (1, 1000, 400, Decimal("10.00")),
        "窓口課": (1, 7, 7, Decimal("0.70")),  # 2026-03-31 15:00 UTC is April 1st, 00:00 in Japan
    }
    assert [r.label for r in by["team"]] == ["総務課", "企画課", "窓口課"]  # by cost
    assert {r.label: r.requests for r in by["user"]} == {"u1": 2, "u2": 1, "u4": 1, "u6": 1}
    assert {r.key: r.cost_jpy for r in by["model"]} == {"gpt-x": Decimal("12.50"), "llm-jp-4": Decimal("2.075")}
    assert {r.key: r.requests for r in by["app"]} == {"portal": 1, "app:要約": 2, "app:翻訳": 1, "api": 1}
    assert [(r.key, r.requests) for r in by["day"]] == [
        ("2026-04-01", 1), ("2026-04-02", 2), ("2026-04-19", 1), ("2026-04-20", 1),
    ]  # fmt: skip
    assert usage_stats.totals(by["team"]).cost_jpy == Decimal("14.575")
    assert [r.key for r in usage_stats.top_apps(by["app"])] == ["app:要約", "app:翻訳"]
    lines = usage_csv(by["team"], "team").lstrip("\ufeff").splitlines()
    assert lines[0] == "team,label,requests,input_tokens,output_tokens,cost_jpy" and len(lines) == 4


def test_team_admins_see_only_their_teams(database: Database, seeded: dict[str, int]) -> None:
    admin = AccessScope(
        Principal(user_id=1, email="x@y", display_name="課長", team_roles={seeded["plan"]: TeamRole.ADMIN})
    )
    member = AccessScope(
        Principal(user_id=2, email="m@y", display_name="職員", team_roles={seeded["plan"]: TeamRole.MEMBER})
    )
    with database.session() as db:
        rows = usage_stats.usage_by(db, admin, month_period("2026-04"), "team")
        assert [r.label for r in rows] == ["企画課"]
        assert [t.label for t in adoption.team_adoption(db, admin, NOW)] == ["企画課"]
        assert adoption.organisation_adoption(db, admin, NOW) == []
        assert [b.subject for b in budgets.budget_use(db, admin, NOW)] == ["企画課"]
        with pytest.raises(Forbidden):
            usage_stats.usage_by(db, member, month_period("2026-04"), "team")


def test_adoption_rate_per_team_and_organisation(database: Database, seeded: dict[str, int]) -> None:
    with database.session() as db:
        teams = {t.label: (t.members, t.active, t.rate) for t in adoption.team_adoption(db, AUDITOR, NOW)}
        orgs = {o.label: (o.members, o.active, o.rate) for o in adoption.organisation_adoption(db, AUDITOR, NOW)}
    # active in the 30 days before NOW: u1, u2, u4, u6; not u3, u5; inactive accounts never count
    assert teams == {
        "企画課": (3, 2, Decimal("66.7")),
        "総務課": (2, 1, Decimal("50.0")),
        "窓口課": (1, 1, Decimal("100.0")),
    }
    assert orgs == {"本省": (5, 3, Decimal("60.0")), "出先": (1, 1, Decimal("100.0"))}


def test_budget_consumption_in_the_current_window(database: Database, seeded: dict[str, int]) -> None:
    with database.session() as db:
        uses = {(b.subject, b.window): (b.used, b.percent) for b in budgets.budget_use(db, ROOT, NOW)}
    assert uses == {
        ("企画課", LimitWindow.MONTH): (Decimal("3.88"), Decimal("38.8")),  # 3.875 JPY of 10 this month
        ("総務課", LimitWindow.DAY): (Decimal("0.00"), Decimal("0.0")),  # yesterday's tokens don't count today
    }


def test_month_must_be_a_calendar_month() -> None:
    assert month_period("2026-12").until == datetime(2026, 12, 31, 15, tzinfo=UTC)
    for bad in ("2026-13", "2026/04", "april"):
        with pytest.raises(InvalidInput):
            month_period(bad)
