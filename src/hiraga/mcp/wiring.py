"""Hangs MCP into the app: hiraga's own MCP server at ``/mcp`` (Streamable HTTP, API keys), and the
tool box that runs registered servers' tools for chat (``ctx.extras["mcp_toolbox"]``)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Route

from hiraga.gateway.secrets import SecretBox
from hiraga.mcp.calls import ToolBox
from hiraga.mcp.chat_tools import TOOLBOX_KEY
from hiraga.mcp.client import Connector
from hiraga.mcp.registry import Rules
from hiraga.mcp.server import McpEndpoint
from hiraga.settings import Settings
from hiraga.web.context import AppContext

MCP_PATH = "/mcp"


def rules_of(settings: Settings) -> Rules:
    return Rules(
        box=SecretBox(settings.secret()),
        allowed_hosts=tuple(settings.allowed_upstream_hosts),
        stdio_commands=tuple(settings.mcp_stdio_commands),
    )


def build_toolbox(ctx: AppContext) -> ToolBox:
    settings = ctx.settings
    connector = Connector(
        allowed_hosts=tuple(settings.allowed_upstream_hosts),
        stdio_commands=tuple(settings.mcp_stdio_commands),
        max_result_chars=settings.mcp_max_result_chars,
    )
    return ToolBox(ctx.database, connector, SecretBox(settings.secret()), settings.mcp_approval_ttl_seconds)


def toolbox_of(ctx: AppContext) -> ToolBox:
    toolbox: ToolBox = ctx.extras[TOOLBOX_KEY]
    return toolbox


def install(app: FastAPI, ctx: AppContext) -> None:
    ctx.extras[TOOLBOX_KEY] = build_toolbox(ctx)
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(ctx), methods=["GET", "POST", "DELETE"]))
