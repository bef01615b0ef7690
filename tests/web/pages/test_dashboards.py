"""Dashboards and the monthly report as pages: numbers from seeded usage, CSV downloads, charts
with titles, the print stylesheet, scoping; and every string of these templates has English."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from pages_support import Directory

from hiraga import i18n
from hiraga.dashboards.overview import TITLES
from hiraga.store.database import Database
from hiraga.store.tables import UsageRecord
from hiraga.usage.windows import JST

TEMPLATES = Path(i18n.__file__).parent / "web" / "templates"


def seed_usage(database: Database, people: Directory) -> str:
    """Usage of amy (企画課) and bea (総務課) this month; returns the month."""
    now = datetime.now(UTC)
    with database.session() as db:
        for user, team, cost, source in (
            ("amy", people.team_a, "12.50", "app:要約"),
            ("amy", people.team_a, "7.25", "portal"),
            ("bea", people.team_b, "100.00", "app:翻訳"),
        ):
            db.add(
                UsageRecord(
                    request_id=uuid.uuid4().hex, created_at=now, user_id=people.ids[user], team_id=team,
                    kind="chat", model="llm-jp-4", input_tokens=1000, output_tokens=200, estimated=False,
                    cost_jpy=Decimal(cost), outcome="ok", source=source,
                )
            )  # fmt: skip
    return f"{now.astimezone(JST):%Y-%m}"


def test_system_admin_sees_numbers_charts_and_csv(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    month = seed_usage(database, people)
    client = as_user("root")
    page = client.get("/dashboards").text
    assert "119.75" in page  # total cost
    assert "企画課" in page and "総務課" in page
    assert page.count("<svg") >= 6 and "<title id=" in page and "<desc id=" in page
    assert "50.0%" in page  # 企画課: amy active, alice not
    csv_text = client.get(f"/dashboards/usage.csv?dimension=team&month={month}").text.lstrip("\ufeff")
    lines = csv_text.splitlines()
    assert lines[0] == "team,label,requests,input_tokens,output_tokens,cost_jpy"
    assert lines[1].endswith(",総務課,1,1000,200,100.000000") and lines[2].endswith(",企画課,2,2000,400,19.750000")
    adoption = client.get("/dashboards/adoption.csv?level=organisation").text
    assert ",デジタル庁,4,2,50.0" in adoption


def test_team_admin_sees_own_team_and_members_are_refused(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    seed_usage(database, people)
    page = as_user("alice").get("/dashboards").text
    assert "19.75" in page and "100.00" not in page
    assert as_user("amy").get("/dashboards").status_code == 403
    assert as_user("amy").get("/dashboards/usage.csv").status_code == 403


def test_monthly_report_prints(as_user: Callable[[str], TestClient], database: Database, people: Directory) -> None:
    month = seed_usage(database, people)
    page = as_user("root").get(f"/dashboards/monthly?month={month}").text
    assert "/static/dashboards.css" in page
    for heading in ("利用と費用", "利用率", "予算の消化", "機密性の判断", "よく使われたアプリ"):
        assert heading in page
    css = as_user("root").get("/static/dashboards.css").text
    assert "@media print" in css
    assert as_user("root").get("/dashboards/monthly?month=2026-13").status_code == 400


def test_every_string_in_these_templates_has_english() -> None:
    english = i18n.catalogue("en")
    found: set[str] = set()
    for path in [*(TEMPLATES / "audit").glob("*.html"), *(TEMPLATES / "dashboards").glob("*.html")]:
        found |= set(re.findall(r'_\("([^"]+)"\)', path.read_text(encoding="utf-8")))
        found |= set(re.findall(r"_\('([^']+)'\)", path.read_text(encoding="utf-8")))
    found |= (
        {f"{title}別の利用" for title in TITLES.values()}
        | set(TITLES.values())
        | {"組織", "ダッシュボード", "監査ログ"}
    )
    missing = sorted(s for s in found if s not in english)
    assert not missing, missing
