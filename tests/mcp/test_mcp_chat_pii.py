"""Personal data and tool calls with an external model endpoint (PII policy ``mask``): the model sees
placeholders (〔氏名1〕) and writes them into a tool call's arguments. hiraga puts the values back
before the call, only for a server cleared for the conversation's 機密性, shows the user the real
arguments to approve, keeps the audit record masked, and masks the arguments and the tool's result
again before they go back to the model."""

from __future__ import annotations

import json

import anyio
from fastapi import FastAPI
from mcp_support import BookingChat

from hiraga.mcp.calls import Requested, Turn
from hiraga.mcp.wiring import toolbox_of
from hiraga.pii import PiiPolicy
from hiraga.spine.authenticate import principal_for_user
from hiraga.spine.pii import shared_guard
from hiraga.store.tables import User

BOOK = "facility__book_room"
NAME, PHONE = "鈴木一郎", "090-1234-5678"
ASK = f"申請者は{NAME}様（電話 {PHONE}）です。会議室Aを12月10日の午後に予約してください。"
MASKED_PURPOSE = "〔氏名1〕様（〔電話番号1〕）との面談"
REAL_PURPOSE = f"{NAME}様（{PHONE}）との面談"


def booking_args(purpose: str) -> dict[str, str]:
    return {"room": "会議室A", "date": "2026-12-10", "slot": "午後", "purpose": purpose}


def test_placeholders_in_arguments_become_the_values_for_the_tool_and_never_go_back_to_the_model(
    booking: BookingChat,
) -> None:
    chat = booking.conversation()
    booking.upstream.plan(("call", [(BOOK, booking_args(MASKED_PURPOSE))]), ("say", "予約しました。"))
    [book] = booking.send(chat, ASK)["tool_calls"]

    first = json.dumps(booking.upstream.chat_requests()[0].body, ensure_ascii=False)
    assert NAME not in first and PHONE not in first and "〔氏名1〕" in first  # the model saw placeholders
    assert book["status"] == "pending" and book["arguments"] == booking_args(REAL_PURPOSE)  # the user sees values
    [held] = [r for r in booking.records() if r.action == "mcp_tool_call"]
    assert NAME not in held.detail and PHONE not in held.detail  # the record keeps them masked

    decided = booking.decide(book["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    assert [b["purpose"] for b in booking.bookings.entries.values()] == [REAL_PURPOSE]  # the tool got values
    assert decided.json()["call"]["result"].count(NAME) == 1
    back = booking.upstream.chat_requests()[-1].body
    sent_back = json.dumps(back, ensure_ascii=False)
    assert NAME not in sent_back and PHONE not in sent_back  # the arguments and the result, masked again
    [asked] = [m for m in back["messages"] if m.get("tool_calls")]
    assert json.loads(asked["tool_calls"][0]["function"]["arguments"]) == booking_args(MASKED_PURPOSE)
    assert "〔氏名1〕" in back["messages"][-1]["content"]  # the tool's result, placeholders for the model
    assert decided.json()["reply"]["content"] == "予約しました。"
    for record in booking.records():
        assert NAME not in record.detail and PHONE not in record.detail


def test_no_value_is_put_back_for_a_server_below_the_conversations_level(app: FastAPI, booking: BookingChat) -> None:
    lowered = booking.client.patch(
        f"/api/v1/mcp/servers/{booking.server_id()}", json={"clearance": 1}, headers=booking.people.auth("admin")
    )
    assert lowered.status_code == 200
    chat = booking.conversation(level=2)
    placeholders = shared_guard().prepare([ASK], PiiPolicy.MASK).mapping
    with booking.database.session() as db:
        alice = principal_for_user(db, db.get(User, booking.people.ids["alice"]))
    turn = Turn(chat, classification=2, model=booking.model, placeholders=placeholders)
    call = Requested("c1", BOOK, json.dumps(booking_args(MASKED_PURPOSE), ensure_ascii=False))
    _, [row] = anyio.run(toolbox_of(app.state.ctx).handle, alice, turn, [call])
    assert row.status == "refused" and booking.error_codes()[-1] == "mcp_tool_above_clearance"
    assert NAME not in row.arguments and "〔氏名1〕" in row.arguments  # refused before anything was put back
    assert booking.bookings.entries == {}
