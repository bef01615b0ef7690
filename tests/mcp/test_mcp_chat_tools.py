"""MCP servers as tools in chat: a system admin registers the sample facility-booking server, a team
admin enables its tools, and a served model (the stub upstream, speaking OpenAI tool calling) calls
them in a conversation. Read-only calls run and are shown; an effectful call waits for the user who
asked: approved, it runs and the model goes on; rejected, it never reaches the server. Every step is
in the audit chain."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from mcp_facility_booking import Bookings
from mcp_support import People, ToolCallingUpstream

from hiraga.mcp.calls import Requested, Turn
from hiraga.mcp.wiring import toolbox_of
from hiraga.spine.authenticate import principal_for_user
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, McpTool, McpToolCall, User

BOOK = "facility__book_room"
ROOMS = "facility__list_rooms"
BOOKING = {"room": "会議室A", "date": "2026-12-10", "slot": "午後", "purpose": "住民説明会の準備"}


def register(client: httpx.Client, people: People, url: str) -> dict[str, dict[str, Any]]:
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


def conversation(client: httpx.Client, people: People, model: str, role: str = "alice", level: int = 1) -> int:
    body = {"model": model, "classification": level}
    response = client.post("/api/v1/conversations", json=body, headers=people.auth(role))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def send(client: httpx.Client, people: People, conversation_id: int, text: str, role: str = "alice") -> Any:
    body = {"content": text}
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=people.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def actions(database: Database) -> list[tuple[str, str, str]]:
    with database.session() as db:
        rows = db.scalars(sa.select(AuditRecord).where(AuditRecord.source == "mcp").order_by(AuditRecord.id))
        return [(r.action, json.loads(r.detail).get("tool", ""), r.outcome) for r in rows]


def test_a_read_only_call_runs_an_effectful_one_waits_and_runs_once_approved(
    client: httpx.Client,
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


def decide(client: httpx.Client, people: People, call_id: int, role: str = "alice", **body: Any) -> Any:
    return client.post(f"/api/v1/mcp/calls/{call_id}/decision", json=body, headers=people.auth(role))


def test_a_rejected_call_never_reaches_the_server_and_the_model_is_told(
    client: httpx.Client,
    people: People,
    tool_model: str,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
    database: Database,
) -> None:
    url, bookings = facility
    register(client, people, url)
    chat = conversation(client, people, tool_model)
    upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約は取りやめました。"))
    [book] = send(client, people, chat, "会議室Aを予約して")["tool_calls"]

    other = decide(client, people, book["id"], role="bob", decision="approve")
    assert other.status_code == 404 and other.json()["error"]["code"] == "mcp_call_not_found"
    colleague = decide(client, people, book["id"], role="lead", decision="approve")
    assert colleague.status_code == 404  # only the user who asked decides: not even their team admin
    rejected = decide(client, people, book["id"], decision="reject")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["call"]["status"] == "rejected"
    assert rejected.json()["reply"]["content"] == "予約は取りやめました。"
    told = upstream.chat_requests()[-1].body["messages"][-1]
    assert told["role"] == "tool" and "却下" in told["content"]
    assert bookings.entries == {}
    decisions = [a for a in actions(database) if a[0] == "mcp_tool_decision"]
    assert decisions == [
        ("mcp_tool_decision", f"call:{book['id']}", "refused"),
        ("mcp_tool_decision", f"call:{book['id']}", "refused"),
        ("mcp_tool_decision", BOOK, "ok"),
    ]


def test_edited_arguments_are_checked_against_the_schema_and_then_used(
    client: httpx.Client, people: People, tool_model: str, upstream: ToolCallingUpstream, facility: tuple[str, Bookings]
) -> None:
    url, bookings = facility
    register(client, people, url)
    chat = conversation(client, people, tool_model)
    upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "変更して予約しました。"))
    [book] = send(client, people, chat, "会議室Aを予約して")["tool_calls"]
    bad = decide(client, people, book["id"], decision="edit", arguments={"room": "会議室B"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "mcp_tool_bad_arguments"
    assert bookings.entries == {}
    edited = decide(client, people, book["id"], decision="edit", arguments={**BOOKING, "room": "会議室B"})
    assert edited.status_code == 200, edited.text
    assert [b["room"] for b in bookings.entries.values()] == ["会議室B"]


def test_an_expired_approval_is_refused_and_the_call_never_runs(
    client: httpx.Client,
    people: People,
    tool_model: str,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
    database: Database,
) -> None:
    url, bookings = facility
    register(client, people, url)
    chat = conversation(client, people, tool_model)
    upstream.plan(("call", [(BOOK, BOOKING)]))
    [book] = send(client, people, chat, "会議室Aを予約して")["tool_calls"]
    with database.session() as db:
        db.execute(
            sa.update(McpToolCall)
            .where(McpToolCall.id == book["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.commit()
    late = decide(client, people, book["id"], decision="approve")
    assert late.status_code == 409 and late.json()["error"]["code"] == "mcp_approval_expired"
    assert bookings.entries == {}
    listed = client.get(f"/api/v1/mcp/calls?conversation_id={chat}", headers=people.auth("alice")).json()
    assert [c["status"] for c in listed] == ["expired"]


def test_calls_the_team_may_not_make_are_refused_before_the_server_and_the_chat_goes_on(
    client: httpx.Client,
    people: People,
    tool_model: str,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
    database: Database,
) -> None:
    url, bookings = facility
    tools = register(client, people, url)
    off = {"team_id": people.team, "enabled": False}
    cancel = tools["facility__cancel_booking"]["id"]
    assert client.put(f"/api/v1/mcp/tools/{cancel}/teams", json=off, headers=people.auth("lead")).status_code == 200
    chat = conversation(client, people, tool_model)
    upstream.plan(
        ("call", [("facility__cancel_booking", {"number": "R-0001"}), (BOOK, {"room": "会議室A"}), ("other__x", {})]),
        ("say", "ご希望の操作はできませんでした。"),
    )
    reply = send(client, people, chat, "予約を取り消して")
    assert [(c["tool"], c["status"]) for c in reply["tool_calls"]] == [
        ("facility__cancel_booking", "refused"),
        (BOOK, "refused"),
        ("other__x", "refused"),
    ]
    assert reply["content"] == "ご希望の操作はできませんでした。" and reply["status"] == "complete"
    told = [m for m in upstream.chat_requests()[-1].body["messages"] if m["role"] == "tool"]
    assert all(m["content"].startswith("エラー: ") for m in told) and len(told) == 3
    assert bookings.entries == {}
    codes = [r for r in _error_codes(database) if r]
    assert codes == ["mcp_tool_not_enabled", "mcp_tool_bad_arguments", "mcp_tool_not_enabled"]

    bob_chat = conversation(client, people, tool_model, role="bob")
    upstream.plan(("say", "ツールはありません。"))
    send(client, people, bob_chat, "会議室を予約して", role="bob")
    assert "tools" not in upstream.chat_requests()[-1].body  # bob's team enabled nothing


def test_a_conversation_above_the_servers_clearance_is_offered_no_tools_and_calls_are_refused(
    app: FastAPI,
    client: httpx.Client,
    people: People,
    tool_model: str,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
    database: Database,
) -> None:
    url, bookings = facility
    register(client, people, url)
    server_id = client.get("/api/v1/mcp/servers", headers=people.auth("admin")).json()[0]["id"]
    lowered = client.patch(f"/api/v1/mcp/servers/{server_id}", json={"clearance": 1}, headers=people.auth("admin"))
    assert lowered.status_code == 200
    chat = conversation(client, people, tool_model, level=2)
    upstream.plan(("say", "ツールは使えません。"))
    send(client, people, chat, "会議室を予約して")
    assert "tools" not in upstream.chat_requests()[-1].body

    toolbox = toolbox_of(app.state.ctx)
    with database.session() as db:
        alice = principal_for_user(db, db.get(User, people.ids["alice"]))
    turn = Turn(chat, classification=2, model=tool_model)
    _, [row] = anyio.run(toolbox.handle, alice, turn, [Requested("c1", BOOK, json.dumps(BOOKING))])
    assert row.status == "refused" and "機密性1" in (row.error_message or "")
    assert _error_codes(database)[-1] == "mcp_tool_above_clearance"
    assert bookings.entries == {}


def _error_codes(database: Database) -> list[str | None]:
    with database.session() as db:
        query = sa.select(AuditRecord.error_code).where(AuditRecord.action == "mcp_tool_call").order_by(AuditRecord.id)
        return list(db.scalars(query))


def test_a_server_removed_while_a_call_waited_fails_the_approved_call_clearly_and_the_chat_goes_on(
    client: httpx.Client,
    people: People,
    tool_model: str,
    upstream: ToolCallingUpstream,
    facility: tuple[str, Bookings],
    database: Database,
) -> None:
    url, _ = facility
    register(client, people, url)
    server_id = client.get("/api/v1/mcp/servers", headers=people.auth("admin")).json()[0]["id"]
    chat = conversation(client, people, tool_model)
    upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約できませんでした。"))
    [book] = send(client, people, chat, "会議室Aを予約して")["tool_calls"]
    assert client.delete(f"/api/v1/mcp/servers/{server_id}", headers=people.auth("admin")).status_code == 204
    decided = decide(client, people, book["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    assert decided.json()["call"]["status"] == "failed" and decided.json()["call"]["error_message"]
    assert decided.json()["reply"]["content"] == "予約できませんでした。"
    assert _error_codes(database)[-1] == "mcp_tool_not_found"


def test_a_read_only_tool_on_a_server_that_is_down_is_a_clear_error_and_the_chat_goes_on(
    client: httpx.Client, people: People, tool_model: str, upstream: ToolCallingUpstream, database: Database
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    body = {"name": "down", "url": f"http://127.0.0.1:{port}/mcp", "timeout_seconds": 5}
    server_id = client.post("/api/v1/mcp/servers", json=body, headers=people.auth("admin")).json()["id"]
    with database.session() as db:  # the tool as an earlier refresh stored it
        tool = McpTool(
            server_id=server_id, name="lookup", exposed_name="down__lookup", input_schema={}, effect="read_only"
        )
        db.add(tool)
        db.commit()
        tool_id = tool.id
    enable = {"team_id": people.team, "enabled": True}
    assert client.put(f"/api/v1/mcp/tools/{tool_id}/teams", json=enable, headers=people.auth("lead")).status_code == 200
    chat = conversation(client, people, tool_model)
    upstream.plan(("call", [("down__lookup", {})]), ("say", "台帳を確認できませんでした。"))
    reply = send(client, people, chat, "台帳を調べて")
    [call] = reply["tool_calls"]
    assert call["status"] == "failed" and "接続できない" in call["error_message"]
    assert reply["content"] == "台帳を確認できませんでした。" and reply["status"] == "complete"
    told = upstream.chat_requests()[-1].body["messages"][-1]
    assert told["role"] == "tool" and told["content"].startswith("エラー: ")
    assert _error_codes(database)[-1] == "mcp_server_failed"
