"""The audit log page and the verification page: who may see what, filters, export links, and an
altered record named on the verification page. There is no way to change a record from a page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from pages_support import Directory

from hiraga.audit import chain, keys
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import User


def seed(database: Database, settings: Settings, people: Directory) -> list[int]:
    keys.bind(database.engine, settings)
    start = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [
        {
            "occurred_at": start + timedelta(hours=i),
            "action": "model_call",
            "actor_user_id": people.ids["amy" if i % 2 else "bea"],
            "actor_email": "amy@example.go.jp" if i % 2 else "bea@example.go.jp",
            "team_id": people.team_a if i % 2 else people.team_b,
            "model": f"model-{i}",
            "classification": 2 if i % 2 else 3,
            "outcome": "ok",
            "source": "portal",
        }
        for i in range(6)
    ]
    with database.engine.begin() as connection:
        chain.append(connection, rows)
        return sorted(int(i) for i in connection.execute(sa.select(chain.AUDIT.c.id)).scalars())


def make_auditor(database: Database, people: Directory) -> None:
    with database.session() as db:
        db.execute(sa.update(User).where(User.id == people.ids["carol"]).values(is_auditor=True))


def test_auditor_filters_and_exports(
    as_user: Callable[[str], TestClient], database: Database, settings: Settings, people: Directory
) -> None:
    seed(database, settings, people)
    make_auditor(database, people)
    client = as_user("carol")
    page = client.get("/audit")
    assert page.status_code == 200
    assert all(f"model-{i}" in page.text for i in range(6))
    assert 'href="/audit"' in page.text and 'href="/dashboards"' in page.text  # the menu links
    filtered = client.get("/audit?classification=3").text
    assert "model-0" in filtered and "model-1" not in filtered
    assert "/api/v1/audit/export?classification=3&amp;format=csv" in filtered
    export = client.get("/api/v1/audit/export?classification=3&format=csv")
    assert export.status_code == 200 and export.text.count("model-") == 3
    bad = client.get("/audit?since=yesterday")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_team_admin_sees_own_team_and_members_nothing(
    as_user: Callable[[str], TestClient], database: Database, settings: Settings, people: Directory
) -> None:
    seed(database, settings, people)
    page = as_user("alice").get("/audit").text
    assert "model-1" in page and "model-0" not in page
    assert "/audit/verify" not in page
    assert as_user("alice").get("/audit/verify").status_code == 403
    assert as_user("amy").get("/audit").status_code == 403


def test_anonymous_visitors_go_to_login(client: TestClient) -> None:
    response = client.get("/audit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_verification_page_names_the_altered_record(
    as_user: Callable[[str], TestClient], database: Database, settings: Settings, people: Directory
) -> None:
    ids = seed(database, settings, people)
    client = as_user("root")
    assert "改ざんは見つかりませんでした" in client.get("/audit/verify").text
    with database.engine.begin() as connection:
        connection.execute(sa.update(chain.AUDIT).where(chain.AUDIT.c.id == ids[2]).values(classification=1))
    page = client.get("/audit/verify").text
    assert "問題が見つかりました" in page and f"ID {ids[2]}" in page


def test_no_page_changes_records(as_user: Callable[[str], TestClient], people: Directory) -> None:
    client = as_user("root")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/audit").status_code in (403, 405)
        assert client.request(method, "/api/v1/audit").status_code in (403, 405)
