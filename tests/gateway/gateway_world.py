"""Fixtures shared by the gateway, provider and /v1 tests (imported by their conftest files)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_stub import StubUpstream, stub_settings

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole
from model_cache import MODEL_CACHE_DIR

_STUB: StubUpstream | None = None


@dataclass
class World:
    team_a: int
    team_b: int
    admin_key: str
    alice_key: str  # member of team A
    bob_key: str  # member of team B

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def stub() -> Iterator[StubUpstream]:
    global _STUB
    if _STUB is None:
        _STUB = StubUpstream().start()
    _STUB.reset()
    yield _STUB
    _STUB.reset()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(
        database_url,
        tmp_path,
        embedded_model_dir=MODEL_CACHE_DIR,
        embedded_threads=2,
        embedded_context=2048,
    )


def make_world(database: Database) -> World:
    scope = AccessScope(CLI_OPERATOR)
    with database.session() as db:
        org = directory.create_organisation(db, scope, "デジタル庁")
        team_a = directory.create_team(db, scope, org.id, "A課")
        team_b = directory.create_team(db, scope, org.id, "B室")
        keys = []
        for email, admin, team in (
            ("admin@example.jp", True, None),
            ("alice@example.jp", False, team_a),
            ("bob@example.jp", False, team_b),
        ):
            user = directory.create_user(db, scope, email=email, password=None, is_system_admin=admin)
            if team is not None:
                directory.set_membership(db, scope, team.id, user.id, TeamRole.MEMBER)
            keys.append(api_keys.issue_key(db, CLI_OPERATOR, user.id, "test", 30).secret)
        return World(team_a.id, team_b.id, *keys)


@pytest.fixture
def world(database: Database) -> World:
    return make_world(database)


def add_endpoint(client: TestClient, world: World, name: str, base_url: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "provider": "openai",
        "base_url": base_url,
        "upstream_model": "stub-model",
        "all_teams": True,
        **fields,
    }
    response = client.post("/api/v1/models", json=body, headers=World.auth(world.admin_key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
