"""Fixtures for page tests: people in two teams, and a client logged in as one of them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pages_support import OPERATOR, PASSWORD, Directory, login

from hiraga.identity import directory
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole


@pytest.fixture
def people(database: Database) -> Directory:
    with database.session() as db:
        org = directory.create_organisation(db, OPERATOR, "デジタル庁")
        team_a = directory.create_team(db, OPERATOR, org.id, "企画課")
        team_b = directory.create_team(db, OPERATOR, org.id, "総務課")
        ids: dict[str, int] = {}
        for name, system_admin in [
            ("root", True),
            ("alice", False),
            ("amy", False),
            ("bob", False),
            ("bea", False),
            ("carol", False),
        ]:
            user = directory.create_user(
                db,
                OPERATOR,
                email=f"{name}@example.go.jp",
                password=PASSWORD,
                display_name=name,
                is_system_admin=system_admin,
            )
            ids[name] = user.id
        for user, team, role in [
            ("alice", team_a, TeamRole.ADMIN),
            ("amy", team_a, TeamRole.MEMBER),
            ("bob", team_b, TeamRole.ADMIN),
            ("bea", team_b, TeamRole.MEMBER),
        ]:
            directory.set_membership(db, OPERATOR, team.id, ids[user], role)
        return Directory(team_a=team_a.id, team_b=team_b.id, ids=ids)


@pytest.fixture
def as_user(client: TestClient, people: Directory):  # type: ignore[no-untyped-def]
    """Log the test client in as one of the people: ``as_user("alice")``."""

    def log_in(name: str) -> TestClient:
        response = login(client, f"{name}@example.go.jp")
        assert response.status_code == 303, response.text
        return client

    return log_in
