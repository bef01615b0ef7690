"""Support for the MCP tests: a small platform (one team with an admin and a member, another team's
member, a system admin), hiraga served on a real port, and the SDK's client connected with a key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from gateway_stub import SeenRequest, ServerThread, _json  # tests/gateway and tests/knowledge: on the path (conftest)
from mcp.client.streamable_http import streamable_http_client
from rag_support import ScriptedUpstream

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole
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
