"""MCP tools in app runs: a builder app that opted in (``use_tools``) and the 文章生成 task app offer a
served model the team's tools; an app that did not opt in offers none. A read-only call runs and the
answer uses it; an effectful one holds the run (kept in the task-run history) until the user who
asked decides: approved, the run goes on to its answer; rejected, the server is never called. Every
step is in the audit chain."""

from __future__ import annotations

from typing import Any

from mcp_support import BookingChat

from hiraga.portal import task_history
from hiraga.store.tables import McpToolCall, TaskRun

BOOK = "facility__book_room"
ROOMS = "facility__list_rooms"
BOOKING = {"room": "会議室A", "date": "2026-12-10", "slot": "午後", "purpose": "住民説明会の準備"}
TEMPLATE = "{{用件}} を施設予約の担当として処理し、結果を一文で知らせてください。"


def make_app(booking: BookingChat, *, use_tools: bool) -> int:
    body = {
        "name": "施設予約の依頼",
        "template": TEMPLATE,
        "owner_team_id": booking.people.team,
        "team_ids": [booking.people.team],
        "use_tools": use_tools,
    }
    response = booking.client.post("/api/v1/builder-apps", json=body, headers=booking.people.auth("lead"))
    assert response.status_code == 201, response.text
    assert response.json()["use_tools"] is use_tools
    return int(response.json()["id"])


def run_app(booking: BookingChat, app_id: int, text: str) -> dict[str, Any]:
    body = {"inputs": {"field_1": text}, "model": booking.model}
    url = f"/api/v1/builder-apps/{app_id}/run"
    response = booking.client.post(url, json=body, headers=booking.people.auth("alice"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_an_app_that_did_not_opt_in_offers_no_tools_and_the_opt_in_travels_in_the_export(
    booking: BookingChat,
) -> None:
    plain = make_app(booking, use_tools=False)
    booking.upstream.plan(("say", "承知しました。"))
    answered = run_app(booking, plain, "会議室Aの予約")
    assert answered["outputs"] == "承知しました。" and answered["status"] == "ok"
    assert "tools" not in booking.upstream.chat_requests()[0].body

    opted = make_app(booking, use_tools=True)
    lead = booking.people.auth("lead")
    exported = booking.client.get(f"/api/v1/builder-apps/{opted}?export=true", headers=lead).json()
    assert exported["use_tools"] is True
    old = {k: v for k, v in exported.items() if k != "use_tools"}  # a file exported before tools existed
    for data, expected in ((exported, True), (old, False)):
        body = {**data, "owner_team_id": booking.people.team, "team_ids": [booking.people.team]}
        imported = booking.client.post("/api/v1/builder-apps", json=body, headers=lead)
        assert imported.status_code == 201, imported.text
        assert imported.json()["use_tools"] is expected


def test_a_read_only_call_runs_and_the_answer_uses_it(booking: BookingChat) -> None:
    app_id = make_app(booking, use_tools=True)
    booking.upstream.plan(("call", [(ROOMS, {})]), ("say", "会議室Aが使えます。"))
    answered = run_app(booking, app_id, "使える会議室を教えて")

    assert answered["status"] == "ok" and answered["outputs"] == "会議室Aが使えます。"
    first, second = (r.body for r in booking.upstream.chat_requests())
    assert {ROOMS, BOOK} <= {t["function"]["name"] for t in first["tools"]}
    assert second["messages"][-1]["role"] == "tool" and "会議室A" in second["messages"][-1]["content"]
    assert booking.actions() == [("mcp_tool_call", ROOMS, "ok")]


def test_an_effectful_call_holds_the_run_and_approval_continues_it_to_its_answer(booking: BookingChat) -> None:
    app_id = make_app(booking, use_tools=True)
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約しました（R-0001）。"))
    held = run_app(booking, app_id, "会議室Aを12月10日の午後に予約")

    assert held["status"] == "held" and held["outputs"] == ""
    [call] = held["tool_calls"]
    assert call["tool"] == BOOK and call["status"] == "pending" and call["arguments"] == BOOKING
    assert booking.bookings.entries == {}
    with booking.database.session() as db:
        run = db.get(TaskRun, held["run_id"])
        assert run is not None and run.status == task_history.HELD and run.app_name == f"builder:{app_id}"
        assert db.get(McpToolCall, call["id"]).task_run_id == run.id  # type: ignore[union-attr]

    assert booking.decide(call["id"], role="bob", decision="approve").status_code == 404
    assert booking.decide(call["id"], role="lead", decision="approve").status_code == 404
    decided = booking.decide(call["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["call"]["status"] == "done" and body["reply"] is None
    assert body["run"]["status"] == "ok" and body["run"]["outputs"] == "予約しました（R-0001）。"
    assert [c["status"] for c in body["run"]["tool_calls"]] == ["done"]
    assert [b["number"] for b in booking.bookings.entries.values()] == ["R-0001"]
    went_on = booking.upstream.chat_requests()[-1].body["messages"]
    assert went_on[0]["content"].startswith("会議室Aを12月10日の午後に予約")  # the app's prompt, then the call
    assert went_on[-1]["role"] == "tool" and "R-0001" in went_on[-1]["content"]

    replay = booking.decide(call["id"], decision="approve")
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "mcp_call_already_decided"
    with booking.database.session() as db:
        run = db.get(TaskRun, held["run_id"])
        assert run is not None and run.status == task_history.OK and run.text == "予約しました（R-0001）。"
    assert booking.actions() == [
        ("mcp_tool_call", BOOK, "pending"),
        ("mcp_tool_decision", f"call:{call['id']}", "refused"),  # bob
        ("mcp_tool_decision", f"call:{call['id']}", "refused"),  # the team admin
        ("mcp_tool_decision", BOOK, "ok"),
        ("mcp_tool_call", BOOK, "ok"),
        ("mcp_tool_decision", f"call:{call['id']}", "refused"),  # the replay
    ]


def test_a_rejected_call_never_reaches_the_server_and_the_run_goes_on_without_it(booking: BookingChat) -> None:
    app_id = make_app(booking, use_tools=True)
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約は取りやめました。"))
    [call] = run_app(booking, app_id, "会議室Aを予約")["tool_calls"]

    rejected = booking.decide(call["id"], decision="reject")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["run"]["outputs"] == "予約は取りやめました。"
    told = booking.upstream.chat_requests()[-1].body["messages"][-1]
    assert told["role"] == "tool" and "却下" in told["content"]
    assert booking.bookings.entries == {}


def test_the_drafting_task_app_offers_tools_and_the_proofreading_app_does_not(booking: BookingChat) -> None:
    headers = booking.people.auth("alice")
    booking.upstream.plan(("call", [(ROOMS, {})]), ("say", "会議室Aで説明会を開きます。"))
    body = {"inputs": {"purpose": "説明会の会場を知らせたい"}, "model": booking.model}
    drafted = booking.client.post("/api/v1/task-apps/generate/run", json=body, headers=headers)
    assert drafted.status_code == 200, drafted.text
    assert drafted.json()["outputs"] == "会議室Aで説明会を開きます。"
    assert "tools" in booking.upstream.chat_requests()[0].body

    booking.upstream.reset()
    booking.upstream.plan(*[("say", "問題ありません。")] * 3)
    body = {"inputs": {"input_text": "会議室を予約します。"}, "model": booking.model}
    checked = booking.client.post("/api/v1/task-apps/proofread/run", json=body, headers=headers)
    assert checked.status_code == 200, checked.text
    assert all("tools" not in r.body for r in booking.upstream.chat_requests())
