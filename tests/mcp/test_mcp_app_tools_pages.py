"""MCP tools in app runs on the portal's pages: a held call of a task app run (streamed and not) and
of a builder app run is shown with the approve / edit / reject form on the run's page; the decision
goes on with the run to its answer."""

from __future__ import annotations

import json
import re

import httpx
from mcp_support import BookingChat

from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope

BOOK = "facility__book_room"
BOOKING = {"room": "会議室A", "date": "2026-12-10", "slot": "午後", "purpose": "住民説明会の準備"}
PASSWORD = "Kasumigaseki-2025"


def member_page(booking: BookingChat) -> httpx.Client:
    """A team member with a password, logged in on the served app (cookies kept by the client)."""
    with booking.database.session() as db:
        directory.create_user(
            db, AccessScope(CLI_OPERATOR), email="carol@example.jp", password=PASSWORD, team_id=booking.people.team
        )
    page = httpx.Client(base_url=str(booking.client.base_url), timeout=60)
    login = page.post(
        "/login", data={"email": "carol@example.jp", "password": PASSWORD, "csrf_token": csrf(page, "/login")}
    )
    assert login.status_code == 303, login.text
    return page


def csrf(page: httpx.Client, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.get(url).text)
    assert match, url
    return match.group(1)


def held_form(html: str) -> str:
    """The action of the held call's decision form."""
    match = re.search(r'action="(/[^"]+/tool-calls/\d+)"', html)
    assert match, "no decision form on the page"
    return match.group(1)


def test_a_held_task_run_is_decided_on_its_page_and_goes_on_streamed_or_not(booking: BookingChat) -> None:
    page = member_page(booking)
    form = {"purpose": "会議室Aで説明会", "model": booking.model, "classification": "1"}
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "会議室Aを予約しました。"))
    ran = page.post("/tasks/generate", data={**form, "csrf_token": csrf(page, "/tasks/generate")})
    assert ran.status_code == 303 and "/tasks/generate/runs/" in ran.headers["location"]
    shown = page.get(ran.headers["location"]).text
    assert "承認待ち" in shown and "承認して実行" in shown and booking.bookings.entries == {}
    action = held_form(shown)
    decided = page.post(
        action, data={"decision": "approve", "arguments": "", "csrf_token": csrf(page, action.split("/tool-calls")[0])}
    )
    assert decided.status_code == 303, decided.text
    after = page.get(decided.headers["location"]).text
    assert "会議室Aを予約しました。" in after and "実行済み" in after and "承認して実行" not in after
    assert len(booking.bookings.entries) == 1

    booking.upstream.plan(("call", [(BOOK, {**BOOKING, "slot": "午前"})]), ("say", "取りやめました。"))
    headers = {"accept": "text/event-stream"}
    streamed = page.post("/tasks/generate", data={**form, "csrf_token": csrf(page, "/tasks/generate")}, headers=headers)
    done = json.loads(streamed.text.split("event: done\ndata: ")[1].split("\n")[0])
    assert done["status"] == "held" and "承認待ち" in done["html"]
    action = held_form(done["html"])
    again = page.post(
        action, data={"decision": "approve", "arguments": "", "csrf_token": csrf(page, action.split("/tool-calls")[0])}
    )
    assert again.status_code == 303
    replay = page.post(
        action, data={"decision": "approve", "arguments": "", "csrf_token": csrf(page, action.split("/tool-calls")[0])}
    )
    assert replay.status_code == 409 and "既に処理されています" in replay.text
    assert len(booking.bookings.entries) == 2


def test_a_held_builder_run_is_rejected_on_its_page_and_never_reaches_the_server(booking: BookingChat) -> None:
    body = {
        "name": "施設予約",
        "template": "{{用件}} を処理してください。",
        "owner_team_id": booking.people.team,
        "team_ids": [booking.people.team],
        "use_tools": True,
    }
    app_id = booking.client.post("/api/v1/builder-apps", json=body, headers=booking.people.auth("lead")).json()["id"]
    page = member_page(booking)
    booking.upstream.plan(("call", [(BOOK, BOOKING)]), ("say", "予約は取りやめました。"))
    url = f"/builder/{app_id}"
    ran = page.post(url, data={"field_1": "会議室Aを予約", "model": booking.model, "csrf_token": csrf(page, url)})
    assert ran.status_code == 303 and f"/builder/{app_id}/runs/" in ran.headers["location"]
    shown = page.get(ran.headers["location"]).text
    assert "承認待ち" in shown and "ツールを使う" in shown
    action = held_form(shown)
    rejected = page.post(action, data={"decision": "reject", "arguments": "", "csrf_token": csrf(page, url)})
    assert rejected.status_code == 303
    after = page.get(rejected.headers["location"]).text
    assert "予約は取りやめました。" in after and "却下しました" in after
    assert booking.bookings.entries == {}
