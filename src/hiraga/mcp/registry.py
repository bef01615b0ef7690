"""Registered MCP servers and their tools. Framework-free. System administrators register servers
(Streamable HTTP behind the SSRF guard, or stdio for commands on ``HIRAGA_MCP_STDIO_COMMANDS``),
decide each tool's effect (a tool nobody judged is effectful) and refresh the tool list; team
administrators enable tools for their teams. Every change is an audit record."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput, NotFound
from hiraga.gateway.secrets import SecretBox
from hiraga.gateway.ssrf import check_upstream_url
from hiraga.identity.principal import Principal
from hiraga.mcp import protocol as wire
from hiraga.mcp import record
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import McpServer, McpTool, McpToolTeam, Team

EXPOSED_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what OpenAI-style tool calling accepts
SEPARATOR = "__"


@dataclass(frozen=True, slots=True)
class Rules:
    """What a registration is checked against: the secret box, the SSRF allow-list, the stdio allow-list."""

    box: SecretBox
    allowed_hosts: tuple[str, ...] = ()
    stdio_commands: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedTool:
    """A tool as a server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]


def _not_found() -> NotFound:
    return NotFound("指定された MCP サーバーが見つかりません。", code="mcp_server_not_found")


def check_command(command: Sequence[str], allowed: Iterable[str]) -> None:
    if not command or command[0] not in set(allowed):
        raise InvalidInput(
            "このコマンドは MCP サーバーとして起動できません。システム管理者が HIRAGA_MCP_STDIO_COMMANDS に"
            "許可したコマンドだけを登録できます。",
            code="mcp_command_not_allowed",
            detail={"field": "command"},
        )


def _check_target(spec: wire.ServerCreate, rules: Rules) -> None:
    if spec.transport == "http":
        if not spec.url:
            raise InvalidInput("Streamable HTTP の URL を指定してください。", detail={"field": "url"})
        check_upstream_url(spec.url, rules.allowed_hosts)
    else:
        check_command(spec.command, rules.stdio_commands)


def create_server(db: Session, scope: AccessScope, spec: wire.ServerCreate, rules: Rules) -> McpServer:
    scope.require_system_admin()
    check_characters(spec.description, "description")
    _check_target(spec, rules)
    if db.scalar(select(McpServer.id).where(McpServer.name == spec.name)) is not None:
        raise Conflict(f"MCP サーバー「{spec.name}」は既に登録されています。", detail={"field": "name"})
    row = McpServer(
        name=spec.name,
        description=spec.description,
        transport=spec.transport,
        url=spec.url if spec.transport == "http" else "",
        command=list(spec.command) if spec.transport == "stdio" else [],
        headers_encrypted=rules.box.encrypt(json.dumps(spec.headers)) if spec.headers else None,
        clearance=spec.clearance,
        timeout_seconds=spec.timeout_seconds,
        approval_ttl_seconds=spec.approval_ttl_seconds,
    )
    db.add(row)
    db.flush()
    facts = {"server_id": row.id, "transport": row.transport, "url": row.url, "clearance": row.clearance}
    events.record(db, record.SERVER_CREATED, scope.principal, subject=row.name, detail=facts)
    return row


def get_server(db: Session, scope: AccessScope, server_id: int) -> McpServer:
    scope.require_system_admin()
    row = db.get(McpServer, server_id)
    if row is None:
        raise _not_found()
    return row


def list_servers(db: Session, scope: AccessScope) -> list[McpServer]:
    """System administrators see every server; team administrators see them to enable tools."""
    scope.require_admin_of_any_team()
    return list(db.scalars(select(McpServer).order_by(McpServer.name)))


def update_server(db: Session, scope: AccessScope, server_id: int, spec: wire.ServerUpdate) -> McpServer:
    row = get_server(db, scope, server_id)
    changes = spec.model_dump(exclude_none=True)
    if "description" in changes:
        check_characters(changes["description"], "description")
    if changes.get("approval_ttl_seconds") == 0:  # back to the platform's setting
        changes["approval_ttl_seconds"] = None
    elif 0 < changes.get("approval_ttl_seconds", 30) < 30:
        raise InvalidInput("承認の有効期限は 30 秒以上にしてください。", detail={"field": "approval_ttl_seconds"})
    for key, value in changes.items():
        setattr(row, key, value)
    db.flush()
    events.record(db, record.SERVER_CHANGED, scope.principal, subject=row.name, detail=changes)
    return row


def delete_server(db: Session, scope: AccessScope, server_id: int) -> None:
    row = get_server(db, scope, server_id)
    events.record(db, record.SERVER_REMOVED, scope.principal, subject=row.name, detail={"server_id": row.id})
    db.delete(row)
    db.flush()


def headers_of(row: McpServer, box: SecretBox) -> dict[str, str]:
    if not row.headers_encrypted:
        return {}
    headers: dict[str, str] = json.loads(box.decrypt(row.headers_encrypted))
    return headers


# -- tools ----------------------------------------------------------------------------------------
def exposed_name(server: str, tool: str) -> str | None:
    """``<server>__<tool>``; None when the tool's name cannot be one (characters, length)."""
    name = f"{server}{SEPARATOR}{tool}"
    return name if EXPOSED_NAME.match(name) else None


def store_tools(
    db: Session, scope: AccessScope, row: McpServer, listed: Sequence[ListedTool]
) -> tuple[list[str], list[str], list[str]]:
    """Bring the server's tools in line with what it listed: (added, removed, skipped). A tool that
    disappeared is kept (its team settings and calls refer to it) but marked unavailable; a name
    that collides with another tool's, or cannot be a tool-calling name, is skipped."""
    scope.require_system_admin()
    known = {tool.name: tool for tool in row.tools}
    taken = set(db.scalars(select(McpTool.exposed_name).where(McpTool.server_id != row.id)))
    added, skipped, seen = [], [], set()
    for item in listed:
        exposed = exposed_name(row.name, item.name)
        if exposed is None or exposed in taken or item.name in seen:
            skipped.append(item.name)
            continue
        seen.add(item.name)
        tool = known.get(item.name)
        if tool is None:
            tool = McpTool(server_id=row.id, name=item.name, exposed_name=exposed, effect="effectful")
            db.add(tool)
            added.append(item.name)
        tool.description, tool.input_schema, tool.available = item.description[:4000], item.input_schema, True
    removed = [name for name, tool in known.items() if name not in seen and tool.available]
    for name in removed:
        known[name].available = False
    db.flush()
    facts = {"added": added, "removed": removed, "skipped": skipped}
    events.record(db, record.TOOLS_REFRESHED, scope.principal, subject=row.name, detail=facts)
    db.refresh(row)
    return added, removed, skipped


def _tool(db: Session, tool_id: int) -> McpTool:
    tool = db.get(McpTool, tool_id)
    if tool is None:
        raise NotFound("指定されたツールが見つかりません。", code="mcp_tool_not_found")
    return tool


def set_effect(db: Session, scope: AccessScope, tool_id: int, effect: str) -> McpTool:
    scope.require_system_admin()
    tool = _tool(db, tool_id)
    tool.effect = effect
    db.flush()
    events.record(db, record.TOOL_EFFECT_SET, scope.principal, subject=tool.exposed_name, detail={"effect": effect})
    return tool


def set_team(db: Session, scope: AccessScope, tool_id: int, team_id: int, enabled: bool) -> McpTool:
    """A team administrator turns a tool on or off for their team."""
    scope.require_team_admin(team_id)
    if db.get(Team, team_id) is None:
        raise NotFound("指定されたチームが見つかりません。")
    tool = _tool(db, tool_id)
    db.execute(delete(McpToolTeam).where(McpToolTeam.tool_id == tool.id, McpToolTeam.team_id == team_id))
    if enabled:
        db.add(McpToolTeam(tool_id=tool.id, team_id=team_id))
    db.flush()
    action = record.TOOL_TEAM_ENABLED if enabled else record.TOOL_TEAM_DISABLED
    events.record(db, action, scope.principal, subject=tool.exposed_name, team_id=team_id)
    return tool


def teams_of(db: Session, tool_id: int) -> list[int]:
    return sorted(db.scalars(select(McpToolTeam.team_id).where(McpToolTeam.tool_id == tool_id)))


def usable_tools(db: Session, principal: Principal) -> list[McpTool]:
    """The tools enabled for any of the caller's teams, on enabled servers, listed at the last refresh."""
    if not principal.team_ids:
        return []
    enabled = select(McpToolTeam.tool_id).where(McpToolTeam.team_id.in_(principal.team_ids))
    query = (
        select(McpTool)
        .join(McpServer, McpServer.id == McpTool.server_id)
        .where(McpTool.id.in_(enabled), McpServer.enabled, McpTool.available)
        .order_by(McpTool.exposed_name)
    )
    return list(db.scalars(query))


def server_view(db: Session, row: McpServer, *, with_teams: bool = True) -> wire.ServerView:
    return wire.ServerView(
        id=row.id,
        name=row.name,
        description=row.description,
        transport=row.transport,
        url=row.url,
        command=list(row.command),
        clearance=row.clearance,
        timeout_seconds=row.timeout_seconds,
        approval_ttl_seconds=row.approval_ttl_seconds,
        enabled=row.enabled,
        tools=[tool_view(db, row, tool) if with_teams else tool_view(None, row, tool) for tool in row.tools],
    )


def tool_view(db: Session | None, server: McpServer, tool: McpTool) -> wire.ToolView:
    return wire.ToolView(
        id=tool.id,
        server=server.name,
        name=tool.name,
        exposed_name=tool.exposed_name,
        description=tool.description,
        input_schema=dict(tool.input_schema),
        effect="read_only" if tool.effect == "read_only" else "effectful",
        available=tool.available,
        teams=teams_of(db, tool.id) if db is not None else [],
    )
