"""/api/v1/mcp: MCP servers as tools (system administrators register and judge them, team
administrators enable tools for their teams) and the tool calls of chat replies and app runs (the user
who asked approves, edits or rejects a held call; once no call of that answer waits, the model goes on).
Thin: ``hiraga.mcp`` decides everything. (hiraga's own MCP server is at ``/mcp``.)"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from hiraga.bounds import RowId
from hiraga.identity.principal import Principal
from hiraga.mcp import app_runs, chat_tools, registry
from hiraga.mcp import protocol as wire
from hiraga.mcp.calls import ToolBox, target_of
from hiraga.mcp.client import ServerTarget
from hiraga.mcp.wiring import rules_of, toolbox_of
from hiraga.portal import chat, task_history
from hiraga.portal.models import model_choices
from hiraga.store.tables import McpServer, McpTool, McpToolCall
from hiraga.web.api import schemas
from hiraga.web.api.portal import answer, gateway_of, max_output
from hiraga.web.deps import CurrentPrincipal, DbSession, Scope, SystemAdminScope, app_context

router = APIRouter(prefix="/api/v1/mcp", tags=["MCP ツール"], responses=schemas.ERROR_RESPONSES)


# -- servers and tools (administrators) -----------------------------------------------------------
@router.get("/servers", summary="登録された MCP サーバーとツール（管理者）")
def list_servers(db: DbSession, scope: Scope) -> list[wire.ServerView]:
    return [registry.server_view(db, row) for row in registry.list_servers(db, scope)]


@router.post("/servers", status_code=201, summary="MCP サーバーの登録（システム管理者）")
def create_server(body: wire.ServerCreate, request: Request, db: DbSession, scope: SystemAdminScope) -> wire.ServerView:
    row = registry.create_server(db, scope, body, rules_of(app_context(request).settings))
    return registry.server_view(db, row)


@router.patch("/servers/{server_id}", summary="MCP サーバーの変更（システム管理者）")
def update_server(server_id: RowId, body: wire.ServerUpdate, db: DbSession, scope: SystemAdminScope) -> wire.ServerView:
    return registry.server_view(db, registry.update_server(db, scope, server_id, body))


@router.delete("/servers/{server_id}", status_code=204, response_class=Response, summary="MCP サーバーの削除")
def delete_server(server_id: RowId, db: DbSession, scope: SystemAdminScope) -> None:
    registry.delete_server(db, scope, server_id)


@router.post("/servers/{server_id}/refresh", summary="ツール一覧の取得（サーバーに接続する。システム管理者）")
async def refresh_tools(
    server_id: RowId, request: Request, db: DbSession, scope: SystemAdminScope
) -> wire.RefreshResult:
    box = toolbox_of(app_context(request))
    target = await anyio.to_thread.run_sync(lambda: _target(db, scope, server_id, box))
    listed = await box.connector.list_tools(target)

    def store() -> wire.RefreshResult:
        row = registry.get_server(db, scope, server_id)
        added, removed, skipped = registry.store_tools(db, scope, row, listed)
        db.commit()
        return wire.RefreshResult(server=registry.server_view(db, row), added=added, removed=removed, skipped=skipped)

    return await anyio.to_thread.run_sync(store)


def _target(db: DbSession, scope: Scope, server_id: int, box: ToolBox) -> ServerTarget:
    row = registry.get_server(db, scope, server_id)
    db.commit()
    return target_of(row, box.box)


@router.put("/tools/{tool_id}/effect", summary="ツールの区分（read_only / effectful。システム管理者）")
def set_effect(tool_id: RowId, body: wire.ToolEffect, db: DbSession, scope: SystemAdminScope) -> wire.ToolView:
    tool = registry.set_effect(db, scope, tool_id, body.effect)
    return registry.tool_view(db, _server(db, tool), tool)


@router.put("/tools/{tool_id}/teams", summary="ツールをチームで有効・無効にする（チーム管理者）")
def set_team(tool_id: RowId, body: wire.ToolTeam, db: DbSession, scope: Scope) -> wire.ToolView:
    tool = registry.set_team(db, scope, tool_id, body.team_id, body.enabled)
    return registry.tool_view(db, _server(db, tool), tool)


def _server(db: DbSession, tool: McpTool) -> McpServer:
    server = db.get(McpServer, tool.server_id)
    assert server is not None
    return server


@router.get("/tools", summary="自分のチームで使えるツール")
def my_tools(db: DbSession, principal: CurrentPrincipal) -> list[wire.ToolView]:
    return [registry.tool_view(None, _server(db, tool), tool) for tool in registry.usable_tools(db, principal)]


# -- tool calls of chat replies -------------------------------------------------------------------
@router.get("/calls", summary="自分のツール呼び出し（conversation_id で絞り込み）")
def my_calls(
    db: DbSession, principal: CurrentPrincipal, conversation_id: RowId | None = None
) -> list[wire.ToolCallView]:
    query = select(McpToolCall).where(McpToolCall.user_id == principal.user_id)
    if conversation_id is not None:
        query = query.where(McpToolCall.conversation_id == conversation_id)
    rows = db.scalars(query.order_by(McpToolCall.id.desc()).limit(200))
    return [wire.ToolCallView.model_validate(chat_tools.call_view(row)) for row in rows]


@router.post("/calls/{call_id}/decision", summary="保留中のツール呼び出しを承認・修正・却下する（依頼した本人）")
async def decide(
    call_id: RowId, body: wire.Decision, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Any:
    """The decided call, and — once no call of that answer waits — the model's continued reply
    (``reply``, a conversation's) or the app run gone on to its answer (``run``, a task or builder app's)."""
    toolbox = toolbox_of(app_context(request))
    await anyio.to_thread.run_sync(db.commit)  # end the read transaction before the tool runs
    row = await toolbox.decide(principal, call_id, body.decision, body.arguments)
    settled = await anyio.to_thread.run_sync(lambda: chat_tools.settled_turn(db, principal, row.turn_id))
    view = chat_tools.call_view(row)
    if settled is not None and row.task_run_id is not None:
        run_id = row.task_run_id
        record = await go_on_with_run(request, principal, run_id, settled)

        def run_view() -> Any:
            with app_context(request).database.session() as session:
                return app_runs.run_view(record, run_id, app_runs.run_calls(session, principal, run_id))

        run = await anyio.to_thread.run_sync(run_view)
        return Response(orjson.dumps({"call": view, "reply": None, "run": run}), media_type="application/json")
    if settled is None or row.conversation_id is None:
        return Response(orjson.dumps({"call": view, "reply": None}), media_type="application/json")
    conversation_id, limit = row.conversation_id, max_output(request)

    def prepare(choices: list[Any]) -> chat.ReplyPlan:
        return chat_tools.continued(chat.prepare_continue(db, principal, conversation_id, choices, limit), settled)

    reply = await answer(request, db, principal, False, prepare)
    return Response(orjson.dumps({"call": view, "reply": orjson.loads(reply.body)}), media_type="application/json")


async def go_on_with_run(
    request: Request, principal: Principal, run_id: int, settled: list[McpToolCall]
) -> task_history.RunRecord:
    """The held app run gone on from its decided calls: its answer, or held again (kept in its row)."""
    ctx = app_context(request)
    choices = await model_choices(gateway_of(ctx), principal)
    limits = (max_output(request), ctx.settings.mcp_max_tool_rounds)
    return await app_runs.resume(gateway_of(ctx), toolbox_of(ctx), principal, run_id, settled, choices, limits)
