"""MCP tests: the app served on a real port (the SDK's client speaks real HTTP), the gateway's stub
upstream taught tool calls as a chat model, lexical knowledge-base search (no embedder), and the
sample effectful MCP server of examples/ on a free port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hiraga.knowledge.wiring import EMBEDDER_KEY
from hiraga.settings import Settings
from hiraga.store.database import Database

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "gateway", TESTS / "knowledge", TESTS.parent / "examples"):
    sys.path.insert(0, str(folder))

from gateway_stub import stub_settings  # noqa: E402
from mcp_facility_booking import Bookings  # noqa: E402
from mcp_facility_booking import build as build_facility  # noqa: E402
from mcp_support import BookingChat, People, Served, ToolCallingUpstream, make_people, register_facility  # noqa: E402


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stub_settings(database_url, tmp_path)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app in a real uvicorn server (its lifespan too), so the gateway, the MCP endpoint and the
    REST calls all run on the server's one event loop."""
    app.state.ctx.extras[EMBEDDER_KEY] = lambda: None
    with Served(app, lifespan="on") as base:
        yield base


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as rest:
        yield rest


@pytest.fixture
def people(database: Database) -> People:
    return make_people(database)


@pytest.fixture
def served(base_url: str) -> str:
    """hiraga's MCP endpoint."""
    return base_url + "/mcp"


_UPSTREAM: ToolCallingUpstream | None = None
TOOL_MODEL = "tool-model"


@pytest.fixture
def upstream() -> Iterator[ToolCallingUpstream]:
    global _UPSTREAM
    if _UPSTREAM is None:
        _UPSTREAM = ToolCallingUpstream()
        _UPSTREAM.start()
    _UPSTREAM.reset()
    yield _UPSTREAM
    _UPSTREAM.reset()


@pytest.fixture
def tool_model(client: httpx.Client, people: People, upstream: ToolCallingUpstream) -> str:
    """A served chat model (the tool-calling stub) cleared for 機密性2, usable by every team."""
    body = {
        "name": TOOL_MODEL,
        "provider": "openai",
        "base_url": upstream.base_url,
        "upstream_model": "stub",
        "all_teams": True,
        "clearance": 2,
        "context_window": 8192,
    }
    response = client.post("/api/v1/models", json=body, headers=people.auth("admin"))
    assert response.status_code == 201, response.text
    return TOOL_MODEL


@pytest.fixture
def facility() -> Iterator[tuple[str, Bookings]]:
    """The sample effectful MCP server (examples/mcp_facility_booking.py) on a free port."""
    bookings = Bookings()
    with Served(build_facility(bookings).streamable_http_app(json_response=True), lifespan="on") as base:
        yield base + "/mcp", bookings


@pytest.fixture
def tool_chat(
    client: httpx.Client, people: People, tool_model: str, upstream: ToolCallingUpstream, database: Database
) -> BookingChat:
    """The tool model served; no MCP server registered yet."""
    return BookingChat(client, people, upstream, database, tool_model)


@pytest.fixture
def booking(tool_chat: BookingChat, facility: tuple[str, Bookings]) -> BookingChat:
    """``tool_chat`` with the facility server registered and its tools enabled for the team."""
    url, tool_chat.bookings = facility
    tool_chat.tools = register_facility(tool_chat.client, tool_chat.people, url)
    return tool_chat
