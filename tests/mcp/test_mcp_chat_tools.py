"""MCP servers as tools in chat: a system admin registers the sample facility-booking server, a team
admin enables its tools, and a served model (the stub upstream, speaking OpenAI tool calling) calls
them in a conversation. Read-only calls run and are shown; an effectful call waits for the user who
asked: approved, it runs and the model goes on; rejected, it never reaches the server. Every step is
in the audit chain."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import anyio
import sqlalchemy as sa
from fastapi import FastAPI
from mcp_support import BookingChat

from hiraga.mcp.calls import Requested, Turn
from hiraga.mcp.wiring import toolbox_of
from hiraga.spine.authenticate import principal_for_user
from hiraga.store.tables import McpTool, McpToolCall, User

BOOK = "facility__book_room"
ROOMS = "facility__list_rooms"
BOOKING = {"room": "会議室A", "date": "2026-12-10", "slot": "午後", "purpose": "住民説明会の準備"}


def test_a_read_only_call_runs_an_effectful_one_waits_and_runs_once_approved(booking: BookingChat) -> None:
    upstream, bookings = booking.upstream, booking.bookings
    chat = booking.conversation()
    upstream.plan(("call", [(ROOMS, {})]), ("call", [(BOOK, BOOKING)]), ("say", "予約しました（R-0001）。"))
    held = booking.send(chat, "会議室Aを12月10日の午後に予約して")

    offered = {t["function"]["name"] for t in upstream.chat_requests()[0].body["tools"]}
    assert {ROOMS, BOOK} <= offered
    [rooms, book] = held["tool_calls"]
    assert rooms["tool"] == ROOMS and rooms["status"] == "done" and "会議室A" in rooms["result"]
    assert book["tool"] == BOOK and book["status"] == "pending" and book["arguments"] == BOOKING
    assert any("承認が必要" in notice for notice in held["notices"])
    assert bookings.entries == {}  # nothing booked before approval
    second = upstream.chat_requests()[1].body["messages"]
    assert second[-1]["role"] == "tool" and "会議室A" in second[-1]["content"]

    decided = booking.decide(book["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    assert decided.json()["call"]["status"] == "done"
    assert [b["number"] for b in bookings.entries.values()] == ["R-0001"]
    assert decided.json()["reply"]["content"] == "予約しました（R-0001）。"
    result_sent = upstream.chat_requests()[-1].body["messages"][-1]
    assert result_sent["role"] == "tool" and "R-0001" in result_sent["content"]

    replay = booking.decide(book["id"], decision="approve")
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "mcp_call_already_decided"
    assert len(bookings.entries) == 1
    assert booking.actions() == [
        ("mcp_tool_call", ROOMS, "ok"),
        ("mcp_tool_call", BOOK, "pending"),
        ("mcp_tool_decision", BOOK, "ok"),
        ("mcp_tool_call", BOOK, "ok"),
        ("mcp_tool_decision", f"call:{book['id']}", "refused"),
    ]


def test_a_rejected_call_never_reaches_the_server_and_the_model_is_told(booking: BookingChat) -> None:
    chat = booking.conversation()
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約は取りやめました。"))
    [book] = booking.send(chat, "会議室Aを予約して")["tool_calls"]

    other = booking.decide(book["id"], role="bob", decision="approve")
    assert other.status_code == 404 and other.json()["error"]["code"] == "mcp_call_not_found"
    colleague = booking.decide(book["id"], role="lead", decision="approve")
    assert colleague.status_code == 404  # only the user who asked decides: not even their team admin
    rejected = booking.decide(book["id"], decision="reject")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["call"]["status"] == "rejected"
    assert rejected.json()["reply"]["content"] == "予約は取りやめました。"
    told = booking.upstream.chat_requests()[-1].body["messages"][-1]
    assert told["role"] == "tool" and "却下" in told["content"]
    assert booking.bookings.entries == {}
    decisions = [a for a in booking.actions() if a[0] == "mcp_tool_decision"]
    assert decisions == [
        ("mcp_tool_decision", f"call:{book['id']}", "refused"),
        ("mcp_tool_decision", f"call:{book['id']}", "refused"),
        ("mcp_tool_decision", BOOK, "ok"),
    ]


def test_edited_arguments_are_checked_against_the_schema_and_then_used(booking: BookingChat) -> None:
    chat = booking.conversation()
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "変更して予約しました。"))
    [book] = booking.send(chat, "会議室Aを予約して")["tool_calls"]
    bad = booking.decide(book["id"], decision="edit", arguments={"room": "会議室B"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "mcp_tool_bad_arguments"
    assert booking.bookings.entries == {}
    edited = booking.decide(book["id"], decision="edit", arguments={**BOOKING, "room": "会議室B"})
    assert edited.status_code == 200, edited.text
    assert [b["room"] for b in booking.bookings.entries.values()] == ["会議室B"]


def test_an_expired_approval_is_refused_and_the_call_never_runs(booking: BookingChat) -> None:
    chat = booking.conversation()
    booking.upstream.plan(("call", [(BOOK, BOOKING)]))
    [book] = booking.send(chat, "会議室Aを予約して")["tool_calls"]
    with booking.database.session() as db:
        db.execute(
            sa.update(McpToolCall)
            .where(McpToolCall.id == book["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.commit()
    late = booking.decide(book["id"], decision="approve")
    assert late.status_code == 409 and late.json()["error"]["code"] == "mcp_approval_expired"
    assert booking.bookings.entries == {}
    listed = booking.client.get(f"/api/v1/mcp/calls?conversation_id={chat}", headers=booking.people.auth("alice"))
    assert [c["status"] for c in listed.json()] == ["expired"]


def test_calls_the_team_may_not_make_are_refused_before_the_server_and_the_chat_goes_on(booking: BookingChat) -> None:
    client, people, upstream = booking.client, booking.people, booking.upstream
    off = {"team_id": people.team, "enabled": False}
    cancel = booking.tools["facility__cancel_booking"]["id"]
    assert client.put(f"/api/v1/mcp/tools/{cancel}/teams", json=off, headers=people.auth("lead")).status_code == 200
    chat = booking.conversation()
    upstream.plan(
        ("call", [("facility__cancel_booking", {"number": "R-0001"}), (BOOK, {"room": "会議室A"}), ("other__x", {})]),
        ("say", "ご希望の操作はできませんでした。"),
    )
    reply = booking.send(chat, "予約を取り消して")
    assert [(c["tool"], c["status"]) for c in reply["tool_calls"]] == [
        ("facility__cancel_booking", "refused"),
        (BOOK, "refused"),
        ("other__x", "refused"),
    ]
    assert reply["content"] == "ご希望の操作はできませんでした。" and reply["status"] == "complete"
    told = [m for m in upstream.chat_requests()[-1].body["messages"] if m["role"] == "tool"]
    assert all(m["content"].startswith("エラー: ") for m in told) and len(told) == 3
    assert booking.bookings.entries == {}
    assert booking.error_codes() == ["mcp_tool_not_enabled", "mcp_tool_bad_arguments", "mcp_tool_not_enabled"]

    bob_chat = booking.conversation(role="bob")
    upstream.plan(("say", "ツールはありません。"))
    booking.send(bob_chat, "会議室を予約して", role="bob")
    assert "tools" not in upstream.chat_requests()[-1].body  # bob's team enabled nothing


def test_a_conversation_above_the_servers_clearance_is_offered_no_tools_and_calls_are_refused(
    app: FastAPI, booking: BookingChat
) -> None:
    lowered = booking.client.patch(
        f"/api/v1/mcp/servers/{booking.server_id()}", json={"clearance": 1}, headers=booking.people.auth("admin")
    )
    assert lowered.status_code == 200
    chat = booking.conversation(level=2)
    booking.upstream.plan(("say", "ツールは使えません。"))
    booking.send(chat, "会議室を予約して")
    assert "tools" not in booking.upstream.chat_requests()[-1].body

    toolbox = toolbox_of(app.state.ctx)
    with booking.database.session() as db:
        alice = principal_for_user(db, db.get(User, booking.people.ids["alice"]))
    turn = Turn(chat, classification=2, model=booking.model)
    _, [row] = anyio.run(toolbox.handle, alice, turn, [Requested("c1", BOOK, json.dumps(BOOKING))])
    assert row.status == "refused" and "機密性1" in (row.error_message or "")
    assert booking.error_codes()[-1] == "mcp_tool_above_clearance"
    assert booking.bookings.entries == {}


def test_a_server_removed_while_a_call_waited_fails_the_approved_call_clearly_and_the_chat_goes_on(
    booking: BookingChat,
) -> None:
    chat = booking.conversation()
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約できませんでした。"))
    [book] = booking.send(chat, "会議室Aを予約して")["tool_calls"]
    removed = booking.client.delete(f"/api/v1/mcp/servers/{booking.server_id()}", headers=booking.people.auth("admin"))
    assert removed.status_code == 204
    decided = booking.decide(book["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    assert decided.json()["call"]["status"] == "failed" and decided.json()["call"]["error_message"]
    assert decided.json()["reply"]["content"] == "予約できませんでした。"
    assert booking.error_codes()[-1] == "mcp_tool_not_found"


def test_a_read_only_tool_on_a_server_that_is_down_is_a_clear_error_and_the_chat_goes_on(
    tool_chat: BookingChat,
) -> None:
    client, people, database = tool_chat.client, tool_chat.people, tool_chat.database
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
    chat = tool_chat.conversation()
    tool_chat.upstream.plan(("call", [("down__lookup", {})]), ("say", "台帳を確認できませんでした。"))
    reply = tool_chat.send(chat, "台帳を調べて")
    [call] = reply["tool_calls"]
    assert call["status"] == "failed" and "接続できない" in call["error_message"]
    assert reply["content"] == "台帳を確認できませんでした。" and reply["status"] == "complete"
    told = tool_chat.upstream.chat_requests()[-1].body["messages"][-1]
    assert told["role"] == "tool" and told["content"].startswith("エラー: ")
    assert tool_chat.error_codes()[-1] == "mcp_server_failed"


def test_a_servers_own_approval_expiry_applies_to_its_held_calls(booking: BookingChat) -> None:
    url = f"/api/v1/mcp/servers/{booking.server_id()}"
    too_short = booking.client.patch(url, json={"approval_ttl_seconds": 5}, headers=booking.people.auth("admin"))
    assert too_short.status_code == 400
    changed = booking.client.patch(url, json={"approval_ttl_seconds": 120}, headers=booking.people.auth("admin"))
    assert changed.status_code == 200 and changed.json()["approval_ttl_seconds"] == 120
    booking.upstream.plan(("call", [(BOOK, BOOKING)]))
    before = datetime.now(UTC)
    [book] = booking.send(booking.conversation(), "会議室Aを予約して")["tool_calls"]
    expires = datetime.fromisoformat(book["expires_at"])
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    assert timedelta(seconds=110) < expires - before < timedelta(seconds=180)  # not the default 15 minutes
