"""Audit records of MCP tool calls, both ways. Arguments are written after PII masking (kinds and
placeholders, never the values); results only by their size."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from hiraga.audit import events
from hiraga.audit.chain import append
from hiraga.errors import HiragaError
from hiraga.identity.principal import Principal
from hiraga.pii import PiiPolicy
from hiraga.spine.pii import shared_guard
from hiraga.store.database import Database

SOURCE = "mcp"
# hiraga as an MCP server: a client called one of hiraga's tools
TOOL_SERVED = "mcp_tool_served"
# a model in chat asked for a registered server's tool: held, decided, ran, refused or failed
TOOL_CALL = "mcp_tool_call"
TOOL_DECISION = "mcp_tool_decision"
# administrators' changes
SERVER_CREATED = "mcp_server_created"
SERVER_CHANGED = "mcp_server_changed"
SERVER_REMOVED = "mcp_server_removed"
TOOLS_REFRESHED = "mcp_tools_refreshed"
TOOL_EFFECT_SET = "mcp_tool_effect_set"
TOOL_TEAM_ENABLED = "mcp_tool_team_enabled"
TOOL_TEAM_DISABLED = "mcp_tool_team_disabled"

MAX_ARGUMENT_CHARS = 2000


def masked_arguments(arguments: Any) -> tuple[str, dict[str, int]]:
    """The arguments as JSON with PII replaced by placeholders, cut to a readable size; and the counts."""
    text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"), default=str)
    prepared = shared_guard().prepare([text], PiiPolicy.MASK)
    return prepared.texts[0][:MAX_ARGUMENT_CHARS], prepared.counts


def tool_row(
    action: str,
    principal: Principal,
    tool: str,
    arguments: Any,
    facts: dict[str, Any] | None = None,
    *,
    error: HiragaError | None = None,
    team_id: int | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """One tool call's record: who, which tool, masked arguments, and the facts given (approval,
    approver, result size, duration...)."""
    masked, counts = masked_arguments(arguments)
    detail: dict[str, Any] = {"tool": tool, "arguments": masked, **(facts or {})}
    if counts:
        detail["pii_counts"] = counts
    if error is not None:
        detail["message"] = error.message
    if outcome is None:
        outcome = ("refused" if error.status < 500 else "failed") if error is not None else "ok"
    return events.event_row(
        action,
        principal,
        subject=f"tool:{tool}",
        team_id=team_id,
        detail=detail,
        outcome=outcome,
        error_code=error.code if error is not None else None,
        source=SOURCE,
    )


def write(database: Database, row: dict[str, Any]) -> None:
    """In a transaction of its own (the call's work may have been rolled back)."""
    with database.engine.begin() as connection:
        append(connection, [row])


def write_in(connection: Connection, row: dict[str, Any]) -> None:
    append(connection, [row])
