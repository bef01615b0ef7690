"""MCP servers as tools in chat: a system admin registers the sample facility-booking server, a team
admin enables its tools, and a served model (the stub upstream, speaking OpenAI tool calling) calls
them in a conversation. Read-only calls run and are shown; an effectful call waits for the user who
asked: approved, it runs and the model goes on; rejected, it never reaches the server. Every step is
in the audit chain."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from mcp_facility_booking import Bookings
from mcp_support import People, ToolCallingUpstream

from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord

BOOK = "facility__book_room"
ROOMS = "facility__list_rooms"
BOOKING = {"room": "会議室A", "date": "2026-12-10", "slot": "午後", "purpose": "住民説明会の準備"}


def register(client: TestClient, people: People, url: str) -> dict[str, dict[str, Any]]:
    """Register and refresh the server, judge the read-only tools, enable everything for the team."""
    body = {"name": "facility", "url": url, "clearance": 2, "description": "施設予約"}
    created = client.post("/api/v1/mcp/servers", json=body, headers=people.auth("admin"))
    assert created.status_code == 201, created.text
    refreshed = client.post(f"/api/v1/mcp/servers/{created.json()['id']}/refresh", headers=people.auth("admin"))
    assert refreshed.status_code == 200, refreshed.text
    tools = {t["exposed_name"]: t for t in refreshed.json()["server"]["tools"]}
    assert {t["effect"] for t in tools.values()} == {"effectful"}  # nobody judged them yet
    for name in ("facility__list_rooms", "facility__find_free_rooms"):
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


def conversation(client: TestClient, people: People, model: str, role: str = "alice", level: int = 1) -> int:
    body = {"model": model, "classification": level}
    response = client.post("/api/v1/conversations", json=body, headers=people.auth(role))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def send(client: TestClient, people: People, conversation_id: int, text: str, role: str = "alice") -> Any:
    body = {"content": text}
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=people.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def actions(database: Database) -> list[tuple[str, str, str]]:
    with database.session() as db:
        rows = db.scalars(sa.select(AuditRecord).where(AuditRecord.source == "mcp").order_by(AuditRecord.id))
        return [(r.action, json.loads(r.detail).get("tool", ""), r.outcome) for r in rows]


def test_a_read_only_call_runs_an_effectful_one_waits_and_runs_once_approved(
    client: TestClient,
    people: People,
    tool_model: str,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
    database: Database,
) -> None:
    url, bookings = facility
    register(client, people, url)
    chat = conversation(client, people, tool_model)
    upstream.plan(("call", [(ROOMS, {})]), ("call", [(BOOK, BOOKING)]), ("say", "予約しました（R-0001）。"))
    held = send(client, people, chat, "会議室Aを12月10日の午後に予約して")

    offered = {t["function"]["name"] for t in upstream.chat_requests()[0].body["tools"]}
    assert {ROOMS, BOOK} <= offered
    [rooms, book] = held["tool_calls"]
    assert rooms["tool"] == ROOMS and rooms["status"] == "done" and "会議室A" in rooms["result"]
    assert book["tool"] == BOOK and book["status"] == "pending" and book["arguments"] == BOOKING
    assert any("承認が必要" in notice for notice in held["notices"])
    assert bookings.entries == {}  # nothing booked before approval
    second = upstream.chat_requests()[1].body["messages"]
    assert second[-1]["role"] == "tool" and "会議室A" in second[-1]["content"]

    decided = client.post(
        f"/api/v1/mcp/calls/{book['id']}/decision", json={"decision": "approve"}, headers=people.auth("alice")
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["call"]["status"] == "done"
    assert [b["number"] for b in bookings.entries.values()] == ["R-0001"]
    assert decided.json()["reply"]["content"] == "予約しました（R-0001）。"
    result_sent = upstream.chat_requests()[-1].body["messages"][-1]
    assert result_sent["role"] == "tool" and "R-0001" in result_sent["content"]

    replay = client.post(
        f"/api/v1/mcp/calls/{book['id']}/decision", json={"decision": "approve"}, headers=people.auth("alice")
    )
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "mcp_call_already_decided"
    assert len(bookings.entries) == 1
    assert actions(database) == [
        ("mcp_tool_call", ROOMS, "ok"),
        ("mcp_tool_call", BOOK, "pending"),
        ("mcp_tool_decision", BOOK, "ok"),
        ("mcp_tool_call", BOOK, "ok"),
        ("mcp_tool_decision", f"call:{book['id']}", "refused"),
    ]
