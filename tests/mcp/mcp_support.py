"""Support for the MCP tests: a small platform (one team with an admin and a member, another team's
member, a system admin), hiraga served on a real port, and the SDK's client connected with a key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import sqlalchemy as sa
from gateway_stub import SeenRequest, ServerThread, _json  # tests/gateway and tests/knowledge: on the path (conftest)
from mcp.client.streamable_http import streamable_http_client
from mcp_facility_booking import Bookings  # examples/: on the path (conftest)
from rag_support import ScriptedUpstream

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, TeamRole
from mcp import Client


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


Served = ServerThread  # an app in a real uvicorn server on a free loopback port, in its own thread


def result_json(result: Any) -> Any:
    """A tool result's JSON: the structured content, else the first text part parsed."""
    import json

    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if isinstance(content, dict) and set(content) == {"result"} else content
    return json.loads(result.content[0].text)


# -- the sample effectful MCP server and a tool-calling upstream ----------------------------------------


def tool_call_events(model: str, calls: list[tuple[str, dict[str, Any]]]) -> list[bytes]:
    """An OpenAI stream whose answer is ``calls``; each call's arguments arrive in two pieces."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-tools",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    out = [chunk({"role": "assistant", "content": None})]
    for index, (name, arguments) in enumerate(calls):
        text = json.dumps(arguments, ensure_ascii=False)
        head = {"index": index, "id": f"call_{index}_{name[-8:]}", "type": "function"}
        out.append(chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": text[: len(text) // 2]}}]}))
        out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": text[len(text) // 2 :]}}]}))
    out.append(chunk({}, "tool_calls"))
    out.append(b"data: [DONE]\n\n")
    return out


class ToolCallingUpstream(ScriptedUpstream):
    """The RAG stub taught ``("call", [(tool, arguments), ...])``: a streamed answer asking for tools."""

    async def _answer(self, script: Any, seen: SeenRequest, writer: Any) -> bool:
        if not (isinstance(script, tuple) and script[0] == "call"):
            return await super()._answer(script, seen, writer)
        request = seen.body or {}
        if not request.get("stream"):
            return await _json(writer, 400, {"error": {"message": "the tool script streams only"}})
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        for event in tool_call_events(str(request.get("model")), script[1]):
            writer.write(event)
            await writer.drain()
        seen.finished = True
        return False


# -- a registered facility server and a tool-calling model, for the chat-tool tests ----------------------
FACILITY_READ_ONLY = ("facility__list_rooms", "facility__find_free_rooms")


@dataclass
class BookingChat:
    """The sample facility server registered (the read-only tools judged so, everything enabled for
    the team), the tool-calling stub as a served model, and the calls a test makes through the API."""

    client: httpx.Client
    people: People
    upstream: ToolCallingUpstream
    database: Database
    model: str
    bookings: Bookings = field(default_factory=Bookings)  # the facility server's (when registered)
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # exposed name -> tool view

    def conversation(self, role: str = "alice", level: int = 1) -> int:
        body = {"model": self.model, "classification": level}
        response = self.client.post("/api/v1/conversations", json=body, headers=self.people.auth(role))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def send(self, conversation_id: int, text: str, role: str = "alice") -> Any:
        url = f"/api/v1/conversations/{conversation_id}/messages"
        response = self.client.post(url, json={"content": text}, headers=self.people.auth(role))
        assert response.status_code == 200, response.text
        return response.json()

    def decide(self, call_id: int, role: str = "alice", **body: Any) -> httpx.Response:
        return self.client.post(f"/api/v1/mcp/calls/{call_id}/decision", json=body, headers=self.people.auth(role))

    def server_id(self) -> int:
        return int(self.client.get("/api/v1/mcp/servers", headers=self.people.auth("admin")).json()[0]["id"])

    def actions(self) -> list[tuple[str, str, str]]:
        """The MCP audit records: (action, tool, outcome)."""
        return [(r.action, json.loads(r.detail).get("tool", ""), r.outcome) for r in self.records()]

    def records(self) -> list[AuditRecord]:
        with self.database.session() as db:
            rows = list(db.scalars(sa.select(AuditRecord).where(AuditRecord.source == "mcp").order_by(AuditRecord.id)))
            db.expunge_all()
            return rows

    def error_codes(self) -> list[str | None]:
        return [r.error_code for r in self.records() if r.action == "mcp_tool_call"]


def register_facility(client: httpx.Client, people: People, url: str) -> dict[str, dict[str, Any]]:
    """Register and refresh the server, judge the read-only tools, enable everything for the team."""
    body = {"name": "facility", "url": url, "clearance": 2, "description": "施設予約"}
    created = client.post("/api/v1/mcp/servers", json=body, headers=people.auth("admin"))
    assert created.status_code == 201, created.text
    refreshed = client.post(f"/api/v1/mcp/servers/{created.json()['id']}/refresh", headers=people.auth("admin"))
    assert refreshed.status_code == 200, refreshed.text
    tools = {t["exposed_name"]: t for t in refreshed.json()["server"]["tools"]}
    assert {t["effect"] for t in tools.values()} == {"effectful"}  # nobody judged them yet
    for name in FACILITY_READ_ONLY:
        response = client.put(
            f"/api/v1/mcp/tools/{tools[name]['id']}/effect", json={"effect": "read_only"}, headers=people.auth("admin")
        )
        assert response.status_code == 200, response.text
    for tool in tools.values():
        response = client.put(
            f"/api/v1/mcp/tools/{tool['id']}/teams",
            json={"team_id": people.team, "enabled": True},
            headers=people.auth("lead"),
        )
        assert response.status_code == 200, response.text
    return tools
