"""hiraga as an MCP client against servers that misbehave, and the rules of registration: the SSRF
guard on URLs, the stdio allow-list, names that collide. Real servers on free ports (the SDK's
MCPServer, or a Starlette app that answers garbage), the SDK's client inside hiraga."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from mcp.server.mcpserver import MCPServer
from mcp_support import People, Served
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hiraga.errors import HiragaError
from hiraga.mcp.client import Connector, ServerTarget
from hiraga.net.outbound import OutboundRefused

LOCAL = Connector(allowed_hosts=("127.0.0.1",), max_result_chars=1000)


def odd_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("odd")

    @server.tool(description="遅いツール")
    async def slow() -> str:
        await anyio.sleep(5)
        return "done"

    @server.tool(description="大きな結果")
    def huge() -> str:
        return "あ" * 50_000

    @server.tool(description="名前に使えない文字")
    def bad_name() -> str:
        return ""

    server.add_tool(lambda: "x", name="dotted.name", description="ドット付き")
    return server


@pytest.fixture(scope="module")
def odd() -> Iterator[str]:
    with Served(odd_server().streamable_http_app(json_response=True), lifespan="on") as base:
        yield base + "/mcp"


@pytest.fixture(scope="module")
def garbage() -> Iterator[str]:
    async def answer(request: Any) -> PlainTextResponse:
        return PlainTextResponse('{"jsonrpc": "2.0", "id": oops', media_type="application/json")

    app = Starlette(routes=[Route("/mcp", answer, methods=["GET", "POST", "DELETE"])])
    with Served(app) as base:
        yield base + "/mcp"


def failure(work: Any) -> HiragaError:
    with pytest.raises(HiragaError) as caught:
        anyio.run(work)
    return caught.value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_slow_tool_times_out(odd: str) -> None:
    target = ServerTarget("odd", "http", odd, timeout_seconds=0.5)
    error = failure(lambda: LOCAL.call_tool(target, "slow", {}))
    assert error.code == "mcp_server_timeout" and "0.5 秒" in error.message


def test_a_huge_result_is_capped_and_its_size_kept(odd: str) -> None:
    result = anyio.run(LOCAL.call_tool, ServerTarget("odd", "http", odd), "huge", {})
    assert len(result.text) == 1000 and result.truncated and result.chars >= 50_000


def test_a_server_that_is_down_or_answers_garbage_is_a_clear_error(garbage: str) -> None:
    down = ServerTarget("down", "http", f"http://127.0.0.1:{free_port()}/mcp", timeout_seconds=5)
    assert failure(lambda: LOCAL.list_tools(down)).code == "mcp_server_failed"
    broken = ServerTarget("broken", "http", garbage, timeout_seconds=5)
    error = failure(lambda: LOCAL.list_tools(broken))
    assert error.code == "mcp_server_failed" and "形式" in error.message


def test_private_addresses_are_refused_unless_allow_listed() -> None:
    target = ServerTarget("inside", "http", "http://127.0.0.1:9/mcp")
    with pytest.raises(OutboundRefused):
        anyio.run(Connector().list_tools, target)
    metadata = ServerTarget("meta", "http", "http://169.254.169.254/mcp")
    with pytest.raises(OutboundRefused):
        anyio.run(Connector(allowed_hosts=("169.254.169.254",)).list_tools, metadata)


def test_stdio_runs_only_allow_listed_commands() -> None:
    command = (sys.executable, "examples/mcp_facility_booking.py", "--stdio")
    target = ServerTarget("facility", "stdio", command=command, timeout_seconds=30)
    refused = failure(lambda: Connector().list_tools(target))
    assert refused.code == "mcp_command_not_allowed"
    listed = anyio.run(Connector(stdio_commands=(sys.executable,)).list_tools, target)
    assert {tool.name for tool in listed} == {"list_rooms", "find_free_rooms", "book_room", "cancel_booking"}


def test_registration_checks_urls_commands_and_roles(client: httpx.Client, people: People) -> None:
    def post(body: dict[str, Any], role: str = "admin") -> Any:
        return client.post("/api/v1/mcp/servers", json=body, headers=people.auth(role))

    inside = post({"name": "inside", "url": "http://10.1.2.3/mcp"})
    assert inside.status_code == 400 and inside.json()["error"]["code"] == "upstream_url_refused"
    shell = post({"name": "shell", "transport": "stdio", "command": ["/bin/sh", "-c", "rm -rf /"]})
    assert shell.status_code == 400 and shell.json()["error"]["code"] == "mcp_command_not_allowed"
    assert post({"name": "Bad Name", "url": "https://tools.example.jp/mcp"}).status_code == 400
    assert post({"name": "lead", "url": "https://tools.example.jp/mcp"}, role="lead").status_code == 403
    assert client.get("/api/v1/mcp/servers", headers=people.auth("alice")).status_code == 403
    assert client.get("/api/v1/mcp/servers", headers=people.auth("admin")).json() == []  # nothing was written


def test_refreshing_skips_names_that_cannot_be_tool_names_and_a_down_server_changes_nothing(
    client: httpx.Client, people: People, odd: str
) -> None:
    body = {"name": "odd", "url": odd}
    server_id = client.post("/api/v1/mcp/servers", json=body, headers=people.auth("admin")).json()["id"]
    refreshed = client.post(f"/api/v1/mcp/servers/{server_id}/refresh", headers=people.auth("admin"))
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["skipped"] == ["dotted.name"]
    assert sorted(refreshed.json()["added"]) == ["bad_name", "huge", "slow"]

    body = {"name": "down", "url": f"http://127.0.0.1:{free_port()}/mcp", "timeout_seconds": 5}
    down_id = client.post("/api/v1/mcp/servers", json=body, headers=people.auth("admin")).json()["id"]
    failed = client.post(f"/api/v1/mcp/servers/{down_id}/refresh", headers=people.auth("admin"))
    assert failed.status_code == 502 and failed.json()["error"]["code"] == "mcp_server_failed"
    servers = {s["name"]: s for s in client.get("/api/v1/mcp/servers", headers=people.auth("admin")).json()}
    assert servers["down"]["tools"] == [] and len(servers["odd"]["tools"]) == 3
