"""Hangs MCP into the app: hiraga's own MCP server at ``/mcp`` (Streamable HTTP, API keys)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Route

from hiraga.mcp.server import McpEndpoint
from hiraga.web.context import AppContext

MCP_PATH = "/mcp"


def install(app: FastAPI, ctx: AppContext) -> None:
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(ctx), methods=["GET", "POST", "DELETE"]))
