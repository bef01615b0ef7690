"""Tools in the apps that answer in chat: a bot (a team's saved system prompt) is offered the team's
enabled tools like any conversation with a served model, and its effectful calls take the same
approval path; the bot's system prompt stays in force when the model goes on after the decision."""

from __future__ import annotations

from mcp_support import BookingChat

BOOK = "facility__book_room"
BOOKING = {"room": "大会議室", "date": "2026-12-11", "slot": "午前", "purpose": "防災訓練"}
PROMPT = "あなたは施設予約の窓口です。予約は必ず承認を得てから行います。"


def test_a_bot_conversation_offers_the_tools_and_holds_an_effectful_call_for_approval(booking: BookingChat) -> None:
    client, people, upstream = booking.client, booking.people, booking.upstream
    bot = {"team_id": people.team, "name": "施設予約窓口", "system_prompt": PROMPT}
    created = client.post("/api/v1/bots", json=bot, headers=people.auth("lead"))
    assert created.status_code == 201, created.text
    body = {"model": booking.model, "classification": 1, "bot_id": created.json()["id"]}
    chat = client.post("/api/v1/conversations", json=body, headers=people.auth("alice"))
    assert chat.status_code == 201, chat.text

    upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "大会議室を予約しました。"))
    [book] = booking.send(chat.json()["id"], "11日の午前に大会議室を")["tool_calls"]
    first = upstream.chat_requests()[0].body
    assert first["messages"][0] == {"role": "system", "content": PROMPT} and BOOK in str(first["tools"])
    assert book["status"] == "pending" and booking.bookings.entries == {}

    decided = booking.decide(book["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    assert decided.json()["reply"]["content"] == "大会議室を予約しました。"
    assert [b["room"] for b in booking.bookings.entries.values()] == ["大会議室"]
    assert upstream.chat_requests()[-1].body["messages"][0]["content"] == PROMPT
