"""Support for the MCP tests: a small platform (one team with an admin and a member, another team's
member, a system admin), hiraga served on a real port, and the SDK's client connected with a key."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from mcp.client.streamable_http import streamable_http_client

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "knowledge"))


@dataclass
class People:
    team: int
    other_team: int
    keys: dict[str, str]  # role -> API key secret
    ids: dict[str, int]  # role -> user id

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_people(database: Database) -> People:
    scope = AccessScope(CLI_OPERATOR)
    with database.session() as db:
        org = directory.create_organisation(db, scope, "デジタル庁")
        team = directory.create_team(db, scope, org.id, "企画課")
        other = directory.create_team(db, scope, org.id, "財政課")
        keys: dict[str, str] = {}
        ids: dict[str, int] = {}
        for role, email, admin, team_id, team_role in (
            ("admin", "admin@example.jp", True, None, None),
            ("lead", "lead@example.jp", False, team.id, TeamRole.ADMIN),
            ("alice", "alice@example.jp", False, team.id, TeamRole.MEMBER),
            ("bob", "bob@example.jp", False, other.id, TeamRole.MEMBER),
        ):
            user = directory.create_user(db, scope, email=email, password=None, is_system_admin=admin)
            if team_id is not None and team_role is not None:
                directory.set_membership(db, scope, team_id, user.id, team_role)
            keys[role] = api_keys.issue_key(db, CLI_OPERATOR, user.id, "test", 30).secret
            ids[role] = user.id
        return People(team.id, other.id, keys, ids)


@asynccontextmanager
async def mcp_client(url: str, key: str | None) -> AsyncIterator[Client]:
    """The SDK's client over Streamable HTTP, with the key as a bearer token."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        yield client


class Served:
    """An app on a real loopback port, lifespan off (the test's TestClient runs the app's lifespan)."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def result_json(result: Any) -> Any:
    """A tool result's JSON: the structured content, else the first text part parsed."""
    import json

    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if isinstance(content, dict) and set(content) == {"result"} else content
    return json.loads(result.content[0].text)
