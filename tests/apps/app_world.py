"""Shared pieces of the apps tests: the reference app (reference_app.py) as a real process; a world
of teams and users with API keys (see ``make_world``)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hiraga.identity import api_keys, directory
from hiraga.identity.principal import Principal
from hiraga.settings import Settings, load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

REFERENCE_APP = Path(__file__).with_name("reference_app.py")
REFERENCE_KEY = "ref-app-key-0123456789"


@dataclass
class ReferenceApp:
    base_url: str
    key: str
    process: subprocess.Popen[str]
    log: Path

    def requests(self) -> list[dict[str, str]]:
        """Every request the app received so far (method, path, host)."""
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"method"')]

    def url(self, variant: str) -> str:
        return f"{self.base_url}/{variant}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_reference_app(log: Path, key: str = REFERENCE_KEY) -> Iterator[ReferenceApp]:
    port = free_port()
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, str(REFERENCE_APP), str(port), key], stdout=sink, stderr=subprocess.STDOUT, text=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError("reference app exited: " + log.read_text())
            try:
                httpx.get(base_url + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield ReferenceApp(base_url, key, process, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def reference_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceApp]:
    yield from start_reference_app(tmp_path_factory.mktemp("reference-app") / "requests.log")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The reference app runs on 127.0.0.1, which the administrator allow-listed."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + "x1y2z3" * 8,
        allowed_upstream_hosts=["127.0.0.1"],
    )


ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))


@dataclass
class World:
    team_a: int
    team_b: int
    keys: dict[str, str] = field(default_factory=dict)  # role -> bearer secret
    users: dict[str, int] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.keys[role]}"}


def make_world(database: Database) -> World:
    """Team A (企画課) with an admin and a member, team B (財政課) with a member, a system admin."""
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "A市")
        world = World(
            team_a=directory.create_team(db, ROOT, org.id, "企画課").id,
            team_b=directory.create_team(db, ROOT, org.id, "財政課").id,
        )
        people = {
            "admin_a": (world.team_a, TeamRole.ADMIN, False),
            "member_a": (world.team_a, TeamRole.MEMBER, False),
            "member_b": (world.team_b, TeamRole.MEMBER, False),
            "root": (None, None, True),
        }
        for role, (team, team_role, is_admin) in people.items():
            user = directory.create_user(
                db, ROOT, email=f"{role}@city.example.jp", password=None, is_system_admin=is_admin
            )
            if team is not None and team_role is not None:
                directory.set_membership(db, ROOT, team, user.id, team_role)
            world.users[role] = user.id
            world.keys[role] = api_keys.issue_key(db, ROOT.principal, user.id, "main", 30).secret
    return world


@pytest.fixture
def world(database: Database) -> World:
    return make_world(database)


def form_definition() -> dict[str, Any]:
    return {
        "input_text": {"type": "textarea", "title": "本文", "desc": "要約する文章", "required": True},
        "tone": {"type": "select", "title": "文体", "options": ["です・ます", "である"], "default": "です・ます"},
        "strict": {"type": "checkbox", "title": "厳密に"},
        "count": {"type": "number", "title": "件数", "min": 1, "max": 5, "integer": True, "default": 3},
        "doc": {"type": "file", "title": "資料", "accept": [".txt", ".pdf"], "max_size_mb": 1, "max_files": 2},
    }


def registration(app: ReferenceApp, variant: str, team: int, **fields: Any) -> dict[str, Any]:
    return {
        "slug": variant.replace("_", "-") if len(variant) > 2 else f"{variant}-app",
        "name": f"参照アプリ {variant}",
        "description": "参照アプリ。**太字**と<script>alert(1)</script>",
        "endpoint_url": app.url(variant),
        "api_key": app.key,
        "form_definition": form_definition(),
        "owner_team_id": team,
        "team_ids": [team],
        "timeout_seconds": 10,
        **fields,
    }
