"""Tools in chat: which tools a reply offers the model, what happens to the calls it asks for, and how
the conversation goes on once the user decided a held call. Framework-free.

Tools are offered only to served models (a built-in embedded model gets none: its path is unchanged)
and only those enabled for the caller's teams whose server is cleared for the conversation's 機密性.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.identity.principal import Principal
from hiraga.mcp.calls import DONE, PENDING, REJECTED, Requested, ToolBox, Turn
from hiraga.pii import PiiPolicy, PlaceholderMap, prepare_messages
from hiraga.portal.chat import Reply, ReplyPlan, ToolRound
from hiraga.portal.models import ModelChoice, pick
from hiraga.providers.base import EndpointConfig
from hiraga.spine.pii import policy_for, shared_guard
from hiraga.store.tables import Conversation, McpToolCall
from hiraga.web.context import AppContext

TOOLBOX_KEY = "mcp_toolbox"
HELD_NOTICE = "ツール「{names}」の実行には承認が必要です。内容を確かめて、承認・修正・却下を選んでください。"


@dataclass
class ChatTools:
    """``portal.chat.ToolRounds`` for one reply (or one app run: no conversation)."""

    toolbox: ToolBox
    principal: Principal
    conversation_id: int | None
    classification: int
    model: str
    max_rounds: int = 4

    async def run(self, reply: Reply, round_: ToolRound) -> list[dict[str, Any]] | None:
        placeholders = await anyio.to_thread.run_sync(placeholders_seen, round_.endpoint, round_.sent)
        turn = Turn(self.conversation_id, self.classification, self.model, round_.text, placeholders)
        _, rows = await self.toolbox.handle(self.principal, turn, assemble(round_.deltas))
        reply.tool_calls.extend(rows)
        held = [row.tool_name for row in rows if row.status == PENDING]
        if held:
            reply.notices.append(HELD_NOTICE.format(names="」「".join(held)))
            return None
        return follow_messages(round_.text, rows)


def placeholders_seen(endpoint: EndpointConfig | None, sent: list[dict[str, Any]]) -> PlaceholderMap | None:
    """The placeholders the model saw instead of personal data: the gateway masked ``sent`` for an
    external endpoint under the ``mask`` policy, and masking the same messages again gives the same
    map. None when the model saw the values (an internal endpoint, ``allow``) or nothing was masked."""
    if endpoint is None or policy_for(endpoint) is not PiiPolicy.MASK:
        return None
    mapping = prepare_messages(shared_guard(), sent, PiiPolicy.MASK).prepared.mapping
    return mapping if len(mapping) else None


def attach(
    toolbox: ToolBox | None, db: Session, principal: Principal, plan: ReplyPlan, choice: ModelChoice, max_rounds: int
) -> tuple[ReplyPlan, ChatTools | None]:
    """The plan with the tools the model may call, and the rounds that run them (None: no tools)."""
    offered = offer(toolbox, db, principal, choice, (plan.classification, plan.model, max_rounds), plan.conversation_id)
    if offered is None:
        return plan, None
    definitions, rounds = offered
    return dataclasses.replace(plan, tools=definitions), rounds


def offer(
    toolbox: ToolBox | None,
    db: Session,
    principal: Principal,
    choice: ModelChoice,
    asked: tuple[int, str, int],
    conversation_id: int | None = None,
) -> tuple[list[dict[str, Any]], ChatTools] | None:
    """The tools a model answer may be offered and the rounds that run its calls (``asked``: the
    機密性, the model name as asked for, the rounds allowed); None for the built-in embedded model,
    without a tool box, or when nothing is enabled and cleared for the level."""
    if toolbox is None or choice.builtin:
        return None
    level, model, max_rounds = asked
    definitions = toolbox.definitions(db, principal, level)
    if not definitions:
        return None
    return definitions, ChatTools(toolbox, principal, conversation_id, level, model, max_rounds)


def attach_for(
    ctx: AppContext, db: Session, principal: Principal, plan: ReplyPlan, choices: Sequence[ModelChoice]
) -> tuple[ReplyPlan, ChatTools | None]:
    """``attach`` with the running app's tool box and settings."""
    choice = pick(choices, plan.model)
    return attach(ctx.extras.get(TOOLBOX_KEY), db, principal, plan, choice, ctx.settings.mcp_max_tool_rounds)


def assemble(deltas: list[dict[str, Any]]) -> list[Requested]:
    """Streamed ``tool_calls`` pieces (by ``index``) joined into whole calls."""
    calls: dict[int, dict[str, str]] = {}
    for delta in deltas:
        index = delta.get("index", 0)
        entry = calls.setdefault(index if isinstance(index, int) else 0, {"id": "", "name": "", "arguments": ""})
        entry["id"] = entry["id"] or str(delta.get("id") or "")
        function = delta.get("function") or {}
        if isinstance(function, dict):
            entry["name"] += str(function.get("name") or "")
            entry["arguments"] += str(function.get("arguments") or "")
    return [Requested(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())]


def follow_messages(text: str, rows: list[McpToolCall]) -> list[dict[str, Any]]:
    """What goes back to the model: its own call message, then one ``tool`` message per call."""
    asked = {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {"id": row.call_id, "type": "function", "function": {"name": row.tool_name, "arguments": row.arguments}}
            for row in rows
        ],
    }
    return [asked, *({"role": "tool", "tool_call_id": row.call_id, "content": tool_message(row)} for row in rows)]


def tool_message(row: McpToolCall) -> str:
    if row.status == DONE:
        return row.result
    if row.status == REJECTED:
        return "利用者がこの呼び出しを却下しました。ツールは実行されていません。"
    return f"エラー: {row.error_message or 'ツールを実行できませんでした。'}"


def settled_turn(db: Session, principal: Principal, turn_id: str) -> list[McpToolCall] | None:
    """The calls of one model answer once none waits any more (None while one does)."""
    rows = list(
        db.scalars(
            select(McpToolCall)
            .where(McpToolCall.turn_id == turn_id, McpToolCall.user_id == principal.user_id)
            .order_by(McpToolCall.id)
        )
    )
    if not rows or any(row.status == PENDING for row in rows):
        return None
    return rows


def latest_calls(db: Session, principal: Principal, conversation: Conversation) -> list[dict[str, Any]]:
    """The tool calls of the conversation's latest turn (since the last question), for the page."""
    questions = [m.created_at for m in conversation.messages if m.role == "user"]
    query = select(McpToolCall).where(
        McpToolCall.conversation_id == conversation.id, McpToolCall.user_id == principal.user_id
    )
    if questions:
        query = query.where(McpToolCall.created_at >= questions[-1])
    return [call_view(row) for row in db.scalars(query.order_by(McpToolCall.id))]


def continued(plan: ReplyPlan, rows: list[McpToolCall]) -> ReplyPlan:
    """The conversation plus the decided calls and their results, for the model to go on."""
    return dataclasses.replace(plan, messages=[*plan.messages, *follow_messages(rows[0].assistant_text, rows)])


def call_view(row: McpToolCall, server: str | None = None) -> dict[str, Any]:
    try:
        arguments = json.loads(row.arguments)
    except ValueError:
        arguments = {"_raw": row.arguments}
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "tool": row.tool_name,
        "server": server,
        "arguments": arguments if isinstance(arguments, dict) else {"_raw": arguments},
        "arguments_text": json.dumps(arguments, ensure_ascii=False, indent=2),
        "effect": row.effect,
        "status": row.status,
        "classification": row.classification,
        "expires_at": row.expires_at,
        "decided_at": row.decided_at,
        "result": row.result,
        "result_chars": row.result_chars,
        "duration_ms": row.duration_ms,
        "error_message": row.error_message,
    }
