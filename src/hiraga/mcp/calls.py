"""Tool calls a model asked for in a conversation: checked, run or held for the user's approval,
and recorded. Framework-free.

A call is refused before anything is sent when the tool is not enabled for the caller's teams, the
arguments are not JSON or fail the tool's schema, or the conversation's 機密性 is above the server's
clearance. A read-only tool runs at once (and is shown); an effectful one waits, ``pending``, until
the user who asked approves (possibly with edited arguments) or rejects it, or until it expires.
A decision is taken once: an UPDATE that only matches a pending row claims it, so a replayed or
concurrent approval finds nothing to claim. Every step is an audit record (``mcp_tool_call``,
``mcp_tool_decision``) with the arguments PII-masked.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import jsonschema
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from hiraga.errors import Conflict, Forbidden, HiragaError, InvalidInput, NotFound
from hiraga.gateway.secrets import SecretBox
from hiraga.identity.principal import Principal
from hiraga.mcp import record, registry
from hiraga.mcp.client import Connector, ServerTarget
from hiraga.pii import PlaceholderMap, restore
from hiraga.store.database import Database
from hiraga.store.tables import McpServer, McpTool, McpToolCall

PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"
DONE, FAILED, REFUSED = "done", "failed", "refused"


class ToolNotEnabled(Forbidden):
    code = "mcp_tool_not_enabled"
    message = "このツールはチームで有効になっていないため使えません。"


class BadArguments(InvalidInput):
    code = "mcp_tool_bad_arguments"
    message = "ツールへの引数が正しくありません。"


class AboveToolClearance(Forbidden):
    code = "mcp_tool_above_clearance"
    message = "会話の機密性がツールのサーバーに渡せる上限を超えています。"


@dataclass(frozen=True, slots=True)
class Requested:
    """One entry of a model's ``tool_calls``."""

    call_id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


@dataclass(frozen=True, slots=True)
class Turn:
    """Where the calls were asked for: the conversation, its 機密性 and model, what the model said."""

    conversation_id: int | None
    classification: int
    model: str
    text: str = ""
    placeholders: PlaceholderMap | None = None  # what stood for personal data in what the model saw


@dataclass(frozen=True, slots=True)
class ToolBox:
    database: Database
    connector: Connector
    box: SecretBox
    approval_ttl_seconds: int = 900

    # -- what a model is offered ------------------------------------------------------------------
    def definitions(self, db: Session, principal: Principal, classification: int) -> list[dict[str, Any]]:
        """OpenAI-style ``tools`` for the caller's enabled tools whose server is cleared for the level."""
        servers = {s.id: s for s in db.scalars(select(McpServer))}
        return [
            _definition(tool)
            for tool in registry.usable_tools(db, principal)
            if servers[tool.server_id].clearance >= classification
        ]

    # -- a model's calls ---------------------------------------------------------------------------
    async def handle(self, principal: Principal, turn: Turn, calls: list[Requested]) -> tuple[str, list[McpToolCall]]:
        """Record the calls of one answer: refused ones are closed with their error, read-only ones
        run, effectful ones wait. Returns the turn id and the rows, in the model's order."""
        turn_id = uuid.uuid4().hex
        rows = [await anyio.to_thread.run_sync(self._admit, principal, turn, turn_id, call) for call in calls]
        for row in rows:
            if row.status == APPROVED:
                await self._run(principal, row)
        return turn_id, [await anyio.to_thread.run_sync(self._reload, row.id) for row in rows]

    def _admit(self, principal: Principal, turn: Turn, turn_id: str, call: Requested) -> McpToolCall:
        with self.database.session() as db:
            row = McpToolCall(
                conversation_id=turn.conversation_id,
                user_id=principal.user_id,
                tool_name=call.name[:200],
                turn_id=turn_id,
                call_id=call.call_id[:200] or uuid.uuid4().hex,
                arguments=call.arguments[:100_000],
                classification=turn.classification,
                model=turn.model[:200],
                assistant_text=turn.text[:20_000],
            )
            error: HiragaError | None = None
            server: McpServer | None = None
            try:
                tool, server = self._usable(db, principal, call.name)
                row.tool_id, row.effect = tool.id, tool.effect
                if turn.classification > server.clearance:  # before any value is put back
                    raise AboveToolClearance(
                        f"会話は機密性{turn.classification}ですが、ツールのサーバー「{server.name}」には"
                        f"機密性{server.clearance}までしか渡せません。",
                    )
                arguments = restored_arguments(call.arguments, turn.placeholders)
                row.arguments = json.dumps(checked_arguments(tool, arguments), ensure_ascii=False)
            except HiragaError as exc:
                error = exc
            self._open(row, error, server.approval_ttl_seconds if server is not None else None)
            db.add(row)
            db.flush()
            facts: dict[str, Any] = {
                "call": row.id,
                "effect": row.effect,
                "status": row.status,
                "conversation": turn.conversation_id,
            }
            outcome = "pending" if row.status == PENDING else None
            audit = record.tool_row(
                record.TOOL_CALL, principal, row.tool_name, _loads(row.arguments), facts, error=error, outcome=outcome
            )
            if row.status != APPROVED:  # a call that runs now is recorded once, when it finished
                record.write_in(db.connection(), audit)
            db.commit()
            db.refresh(row)
            db.expunge(row)
            return row

    def _open(self, row: McpToolCall, error: HiragaError | None, ttl_seconds: int | None) -> None:
        if error is not None:
            row.status, row.error_message = REFUSED, error.message[:1000]
        elif row.effect == "read_only":
            row.status = APPROVED
        else:
            row.status = PENDING
            row.expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds or self.approval_ttl_seconds)

    def _usable(self, db: Session, principal: Principal, name: str) -> tuple[McpTool, McpServer]:
        for tool in registry.usable_tools(db, principal):
            if tool.exposed_name == name:
                server = db.get(McpServer, tool.server_id)
                assert server is not None
                return tool, server
        raise ToolNotEnabled(f"ツール「{name[:100]}」はチームで有効になっていないため使えません。")

    # -- the user's decision -----------------------------------------------------------------------
    async def decide(
        self, principal: Principal, call_row_id: int, decision: str, arguments: dict[str, Any] | None = None
    ) -> McpToolCall:
        """Approve (optionally with edited arguments) or reject a pending call of the caller's own."""
        try:
            row = await anyio.to_thread.run_sync(self._claim, principal, call_row_id, decision, arguments)
        except HiragaError as exc:
            facts: dict[str, Any] = {"call": call_row_id, "decision": decision}
            audit = record.tool_row(
                record.TOOL_DECISION, principal, f"call:{call_row_id}", arguments or {}, facts, error=exc
            )
            await anyio.to_thread.run_sync(record.write, self.database, audit)
            raise
        if row.status == APPROVED:
            await self._run(principal, row)
        return await anyio.to_thread.run_sync(self._reload, row.id)

    def _claim(self, principal: Principal, row_id: int, decision: str, arguments: dict[str, Any] | None) -> McpToolCall:
        with self.database.session() as db:
            row = db.get(McpToolCall, row_id)
            if row is None or row.user_id != principal.user_id:
                raise NotFound("指定されたツール呼び出しが見つかりません。", code="mcp_call_not_found")
            new_args = row.arguments
            if decision == "edit":
                tool = db.get(McpTool, row.tool_id) if row.tool_id is not None else None
                if tool is None:
                    raise NotFound("ツールが見つかりません。", code="mcp_tool_not_found")
                new_args = json.dumps(checked_arguments(tool, json.dumps(arguments or {})), ensure_ascii=False)
            now = datetime.now(UTC)
            status = REJECTED if decision == "reject" else APPROVED
            claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                update(McpToolCall)
                .where(McpToolCall.id == row.id, McpToolCall.status == PENDING, McpToolCall.expires_at > now)
                .values(status=status, approver_id=principal.user_id, decided_at=now, arguments=new_args)
            )
            if not claimed.rowcount:
                self._refuse_claim(db, row, now)
            facts = {"call": row.id, "decision": decision, "approver": principal.email, "edited": decision == "edit"}
            audit = record.tool_row(record.TOOL_DECISION, principal, row.tool_name, _loads(new_args), facts)
            record.write_in(db.connection(), audit)
            db.commit()
            db.refresh(row)
            db.expunge(row)
            return row

    def _refuse_claim(self, db: Session, row: McpToolCall, now: datetime) -> None:
        if row.status == PENDING:  # still pending, so its time is up: close it
            db.execute(update(McpToolCall).where(McpToolCall.id == row.id).values(status=EXPIRED))
            db.commit()
            raise Conflict("承認の期限が切れました。もう一度依頼してください。", code="mcp_approval_expired")
        raise Conflict("このツール呼び出しは既に処理されています。", code="mcp_call_already_decided")

    # -- running -----------------------------------------------------------------------------------
    async def _run(self, principal: Principal, row: McpToolCall) -> None:
        started = time.monotonic()
        error: HiragaError | None = None
        result = None
        try:  # an approved call always ends done or failed, also when its server was removed meanwhile
            target, tool_name = await anyio.to_thread.run_sync(self._target, row)
            result = await self.connector.call_tool(target, tool_name, json.loads(row.arguments))
        except HiragaError as exc:
            error = exc
        duration = round((time.monotonic() - started) * 1000, 1)
        await anyio.to_thread.run_sync(self._finish, principal, row, result, error, duration)

    def _target(self, row: McpToolCall) -> tuple[ServerTarget, str]:
        with self.database.session() as db:
            tool = db.get(McpTool, row.tool_id) if row.tool_id is not None else None
            server = db.get(McpServer, tool.server_id) if tool is not None else None
            if tool is None or server is None:
                raise NotFound("ツールが見つかりません。", code="mcp_tool_not_found")
            return target_of(server, self.box), tool.name

    def _finish(
        self, principal: Principal, row: McpToolCall, result: Any, error: HiragaError | None, ms: float
    ) -> None:
        status = FAILED if error is not None or (result is not None and result.is_error) else DONE
        text = result.text if result is not None else ""
        message = error.message if error is not None else (text[:1000] if status == FAILED else None)
        with self.database.session() as db:
            db.execute(
                update(McpToolCall)
                .where(McpToolCall.id == row.id)
                .values(
                    status=status,
                    result=text,
                    result_chars=result.chars if result is not None else 0,
                    duration_ms=ms,
                    error_message=message,
                )
            )
            facts: dict[str, Any] = {
                "call": row.id,
                "effect": row.effect,
                "status": status,
                "approver_id": row.approver_id,
                "result_chars": result.chars if result is not None else 0,
                "truncated": bool(result and result.truncated),
                "duration_ms": ms,
            }
            outcome = "failed" if status == FAILED else None
            audit = record.tool_row(
                record.TOOL_CALL, principal, row.tool_name, _loads(row.arguments), facts, error=error, outcome=outcome
            )
            record.write_in(db.connection(), audit)
            db.commit()

    def _reload(self, row_id: int) -> McpToolCall:
        with self.database.session() as db:
            row = db.get(McpToolCall, row_id)
            assert row is not None
            db.expunge(row)
            return row


def target_of(server: McpServer, box: SecretBox) -> ServerTarget:
    return ServerTarget(
        name=server.name,
        transport=server.transport,
        url=server.url,
        command=tuple(server.command),
        headers=registry.headers_of(server, box),
        timeout_seconds=server.timeout_seconds,
    )


def restored_arguments(text: str, placeholders: PlaceholderMap | None) -> str:
    """The model's arguments with the values put back where it wrote a placeholder (〔氏名1〕) in a
    string; the JSON is read first, so a value with quotes cannot break it. Unreadable text is
    returned as it came (``checked_arguments`` refuses it)."""
    if placeholders is None:
        return text
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return text
    return json.dumps(_restore_strings(value, placeholders), ensure_ascii=False)


def _restore_strings(value: Any, placeholders: PlaceholderMap) -> Any:
    if isinstance(value, str):
        return restore(value, placeholders)
    if isinstance(value, list):
        return [_restore_strings(item, placeholders) for item in value]
    if isinstance(value, dict):
        return {key: _restore_strings(item, placeholders) for key, item in value.items()}
    return value


def checked_arguments(tool: McpTool, text: str) -> dict[str, Any]:
    """The arguments as an object that satisfies the tool's input schema, or BadArguments."""
    try:
        arguments = json.loads(text or "{}")
    except ValueError:
        raise BadArguments("ツールへの引数が JSON として読めません。") from None
    if not isinstance(arguments, dict):
        raise BadArguments("ツールへの引数はオブジェクト（{...}）で指定してください。")
    try:
        jsonschema.validate(arguments, tool.input_schema or {"type": "object"})
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(全体)"
        raise BadArguments(
            f"ツール「{tool.exposed_name}」への引数が形式に合いません（{where}: {exc.message}）。"
        ) from None
    except jsonschema.SchemaError:
        raise BadArguments(f"ツール「{tool.exposed_name}」の引数の形式定義が正しくありません。") from None
    return arguments


def _definition(tool: McpTool) -> dict[str, Any]:
    schema = dict(tool.input_schema) or {"type": "object", "properties": {}}
    return {
        "type": "function",
        "function": {"name": tool.exposed_name, "description": tool.description[:1000], "parameters": schema},
    }


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
