"""Tool-call overhead through hiraga versus calling the MCP tool server directly (issue 18).

Starts the sample facility-booking server (examples/mcp_facility_booking.py) on a free port and, in
the same run, times the read-only tool ``list_rooms``:

- direct:  the SDK's client, one session per call (connect, initialize, call, close): the shape a
  one-off tool call has;
- hiraga:  ``ToolBox.handle`` — what a chat reply does for one read-only call: enabled-tool lookup,
  schema check, 機密性 check, SSRF resolution and pinning, the same SDK session and call, the call row
  and its PII-masked audit record in the hash chain (SQLite in a temporary directory).

And hiraga as an MCP server: the SDK's client calls hiraga's ``mask_pii`` at /mcp (API key check,
audit record) versus the same detectors behind a bare MCPServer tool on its own port.

    .venv/bin/python bench/mcp/overhead.py --calls 200
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer

from mcp import Client

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

from mcp_facility_booking import build  # noqa: E402

from hiraga.app import create_app  # noqa: E402
from hiraga.cli.common import CLI_OPERATOR  # noqa: E402
from hiraga.identity import api_keys, directory  # noqa: E402
from hiraga.mcp import protocol as wire  # noqa: E402
from hiraga.mcp import registry  # noqa: E402
from hiraga.mcp.calls import Requested, Turn  # noqa: E402
from hiraga.mcp.registry import ListedTool  # noqa: E402
from hiraga.mcp.wiring import rules_of, toolbox_of  # noqa: E402
from hiraga.pii import PiiPolicy  # noqa: E402
from hiraga.settings import load_settings  # noqa: E402
from hiraga.spine.authenticate import principal_for_user  # noqa: E402
from hiraga.spine.authorize import AccessScope  # noqa: E402
from hiraga.spine.pii import shared_guard  # noqa: E402
from hiraga.store import migrate  # noqa: E402
from hiraga.store.tables import TeamRole, User  # noqa: E402

TEXT = "山田太郎様の電話番号は 03-1234-5678、メールは taro@example.jp です。"


class Served:
    def __init__(self, app: Any, lifespan: str = "on") -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


async def one_session(url: str, tool: str, arguments: dict[str, Any], key: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, result


def timed(calls: int, work: Callable[[], Awaitable[Any]]) -> list[float]:
    async def run() -> list[float]:
        for _ in range(5):  # warm-up
            await work()
        out = []
        for _ in range(calls):
            started = time.perf_counter()
            await work()
            out.append((time.perf_counter() - started) * 1000)
        return out

    return anyio.run(run)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def hiraga_world(data: Path, facility_url: str) -> tuple[Any, Any, str]:
    url = f"sqlite:///{data / 'hiraga.db'}"
    migrate.upgrade(url)
    settings = load_settings(data_dir=data, database_url=url, allowed_upstream_hosts="127.0.0.1")
    app = create_app(settings)
    ctx = app.state.ctx
    scope = AccessScope(CLI_OPERATOR)
    with ctx.database.session() as db:
        org = directory.create_organisation(db, scope, "ベンチ庁")
        team = directory.create_team(db, scope, org.id, "計測課")
        user = directory.create_user(db, scope, email="bench@example.jp", password=None, is_system_admin=True)
        directory.set_membership(db, scope, team.id, user.id, TeamRole.ADMIN)
        key = api_keys.issue_key(db, CLI_OPERATOR, user.id, "bench", 30).secret
        principal = principal_for_user(db, db.get(User, user.id))
        admin = AccessScope(principal)
        spec = wire.ServerCreate(name="facility", url=facility_url, clearance=2)
        server = registry.create_server(db, admin, spec, rules_of(settings))
        listed = [ListedTool("list_rooms", "施設の一覧", {"type": "object", "properties": {}})]
        registry.store_tools(db, admin, server, listed)
        tool = server.tools[0]
        registry.set_effect(db, admin, tool.id, "read_only")
        registry.set_team(db, admin, tool.id, team.id, True)
        db.commit()
    return app, principal, key


def bare_pii_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("bare", log_level="WARNING")

    @server.tool()
    def mask_pii(text: str) -> dict[str, Any]:
        prepared = shared_guard().prepare([text], PiiPolicy.MASK)
        return {"masked_text": prepared.texts[0], "counts": prepared.counts}

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    for name in ("httpx2", "httpx", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    shared_guard().prepare([TEXT], PiiPolicy.MASK)  # load the detectors once, outside the timings
    results: dict[str, Any] = {"calls": args.calls}
    with tempfile.TemporaryDirectory() as tmp, Served(build().streamable_http_app(json_response=True)) as base:
        facility = base + "/mcp"
        app, principal, key = hiraga_world(Path(tmp), facility)
        toolbox = toolbox_of(app.state.ctx)
        turn = Turn(None, 1, "bench")

        async def through_hiraga() -> None:
            _, [row] = await toolbox.handle(principal, turn, [Requested("c", "facility__list_rooms", "{}")])
            assert row.status == "done", row.error_message

        results["client_direct"] = summary(timed(args.calls, lambda: one_session(facility, "list_rooms", {})))
        results["client_through_hiraga"] = summary(timed(args.calls, through_hiraga))
        with Served(app) as hiraga, Served(bare_pii_server().streamable_http_app(json_response=True)) as bare:
            arguments = {"text": TEXT}
            results["server_bare"] = summary(
                timed(args.calls, lambda: one_session(bare + "/mcp", "mask_pii", arguments))
            )
            results["server_hiraga"] = summary(
                timed(args.calls, lambda: one_session(hiraga + "/mcp", "mask_pii", arguments, key))
            )
    for a, b in (("client_through_hiraga", "client_direct"), ("server_hiraga", "server_bare")):
        results[f"{a}_added_ms"] = round(results[a]["median_ms"] - results[b]["median_ms"], 2)
        results[f"{a}_ratio"] = round(results[a]["median_ms"] / results[b]["median_ms"], 2)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
