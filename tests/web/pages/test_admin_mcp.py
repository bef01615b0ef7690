"""MCP administration pages: a system admin registers the sample facility-booking server by form
(SSRF guard, stdio allow-list, CSRF), fetches its tools (all effectful until judged), marks one
read-only and disables the server; a team admin turns tools on for their own team only."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import Directory, post_form
from sqlalchemy import select

TESTS = Path(__file__).resolve().parents[2]
for folder in (TESTS / "gateway", TESTS.parent / "examples"):
    sys.path.insert(0, str(folder))
from gateway_stub import ServerThread, stub_settings  # noqa: E402
from mcp_facility_booking import Bookings  # noqa: E402
from mcp_facility_booking import build as build_facility  # noqa: E402

from hiraga.settings import Settings  # noqa: E402
from hiraga.store.database import Database  # noqa: E402
from hiraga.store.tables import McpServer, McpTool, McpToolTeam  # noqa: E402

HTML = {"accept": "text/html"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path, mcp_stdio_commands="uvx")


@pytest.fixture(scope="module")
def facility() -> Iterator[str]:
    with ServerThread(build_facility(Bookings()).streamable_http_app(json_response=True)) as base:
        yield base + "/mcp"


def servers(database: Database) -> list[tuple[str, int, bool]]:
    with database.session() as db:
        return [(s.name, s.clearance, s.enabled) for s in db.scalars(select(McpServer).order_by(McpServer.id))]


def tools(database: Database) -> dict[str, McpTool]:
    with database.session() as db:
        rows = {t.exposed_name: t for t in db.scalars(select(McpTool))}
        db.expunge_all()
        return rows


def register(root: TestClient, url: str, **fields: str) -> object:
    form = {"name": "facility", "description": "施設予約", "transport": "http", "url": url, "clearance": "2"}
    return post_form(root, "/admin/mcp", "/admin/mcp", {**form, "timeout_seconds": "10", **fields})


def test_bad_registrations_change_nothing_and_say_why(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    root = as_user("root")
    private = register(root, "http://10.1.2.3/mcp")
    assert private.status_code == 400 and 'role="alert"' in private.text  # SSRF guard
    assert 'value="http://10.1.2.3/mcp"' in private.text  # the form comes back as typed
    stdio = register(root, "", transport="stdio", command="bash -c 'rm -rf /'")
    assert stdio.status_code == 400 and "HIRAGA_MCP_STDIO_COMMANDS" in stdio.text
    headers = register(root, "http://127.0.0.1:9/mcp", headers="no colon here")
    assert headers.status_code == 400 and "名前: 値" in headers.text
    bad_name = register(root, "http://127.0.0.1:9/mcp", name="施設")
    assert bad_name.status_code == 400
    no_csrf = root.post("/admin/mcp", data={"name": "x", "url": "http://127.0.0.1:9/mcp"}, headers=HTML)
    assert no_csrf.status_code == 403
    assert servers(database) == []


def test_register_fetch_judge_enable_and_disable(
    as_user: Callable[[str], TestClient], database: Database, people: Directory, facility: str
) -> None:
    root = as_user("root")
    assert 'href="/admin/mcp"' in root.get("/admin").text
    created = register(root, facility, headers="Authorization: Bearer tool-secret-4711")
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/admin/mcp?notice=mcp_server_created"
    assert servers(database) == [("facility", 2, True)]
    server_id = root.get("/admin/mcp").text.split('href="/admin/mcp/', 1)[1].split('"', 1)[0]
    page = f"/admin/mcp/{server_id}"
    assert "tool-secret-4711" not in root.get(page).text

    fetched = post_form(root, page, f"{page}/refresh", {})
    assert fetched.status_code == 303 and fetched.headers["location"].endswith("notice=mcp_tools_refreshed")
    found = tools(database)
    assert "facility__book_room" in found and {t.effect for t in found.values()} == {"effectful"}
    shown = root.get(page).text
    assert "facility__book_room" in shown and "作用あり（実行前に承認）" in shown
    rooms = found["facility__list_rooms"]
    judged = post_form(root, page, f"{page}/tools/{rooms.id}/effect", {"effect": "read_only"})
    assert judged.status_code == 303 and tools(database)["facility__list_rooms"].effect == "read_only"
    wrong = post_form(root, page, f"{page}/tools/{rooms.id}/effect", {"effect": "harmless"})
    assert wrong.status_code == 400 and tools(database)["facility__list_rooms"].effect == "read_only"

    book = found["facility__book_room"].id
    lead = as_user("alice")  # team admin of team_a
    listing = lead.get("/admin/mcp").text
    assert "MCP サーバーを登録" not in listing and "facility__book_room" in listing
    enabled = post_form(lead, "/admin/mcp", f"/admin/mcp/tools/{book}/teams/{people.team_a}", {"enabled": "1"})
    assert enabled.status_code == 303, enabled.text
    other = post_form(lead, "/admin/mcp", f"/admin/mcp/tools/{book}/teams/{people.team_b}", {"enabled": "1"})
    assert other.status_code == 404  # another team's tools: as if it did not exist
    assert register(lead, facility, name="mine").status_code == 403
    assert lead.get(page, headers=HTML).status_code == 403
    with database.session() as db:
        assert [(r.tool_id, r.team_id) for r in db.scalars(select(McpToolTeam))] == [(book, people.team_a)]

    root = as_user("root")  # one test client: log in again
    bad_expiry = post_form(root, page, page, {"clearance": "2", "approval_minutes": "ten", "enabled": "1"})
    assert bad_expiry.status_code == 400 and "1〜1,440 分" in bad_expiry.text
    five = {"clearance": "2", "timeout_seconds": "10", "approval_minutes": "5", "enabled": "1"}
    expiry = post_form(root, page, page, five)
    assert expiry.status_code == 303 and _rows(database)[0].approval_ttl_seconds == 300
    assert 'value="5"' in root.get(page).text
    saved = post_form(root, page, page, {"description": "施設予約（停止中）", "clearance": "1", "timeout_seconds": "5"})
    assert saved.status_code == 303 and servers(database) == [("facility", 1, False)]  # enabled box left empty
    assert _rows(database)[0].approval_ttl_seconds is None  # empty: back to the platform's setting
    lead = as_user("alice")
    assert "facility__book_room" not in lead.get("/admin/mcp").text  # a disabled server offers nothing


def test_members_get_no_admin_page_and_a_down_server_is_an_error_on_the_page(
    as_user: Callable[[str], TestClient], database: Database, people: Directory
) -> None:
    assert as_user("amy").get("/admin/mcp", headers=HTML).status_code == 403
    root = as_user("root")
    assert register(root, "http://127.0.0.1:9/mcp").status_code == 303
    [server_id] = [s.id for s in _rows(database)]
    page = f"/admin/mcp/{server_id}"
    down = post_form(root, page, f"{page}/refresh", {})
    assert down.status_code >= 400 and 'role="alert"' in down.text
    assert tools(database) == {}
    removed = post_form(root, page, f"{page}/delete", {})
    assert removed.status_code == 303 and servers(database) == []


def _rows(database: Database) -> list[McpServer]:
    with database.session() as db:
        rows = list(db.scalars(select(McpServer)))
        db.expunge_all()
        return rows
