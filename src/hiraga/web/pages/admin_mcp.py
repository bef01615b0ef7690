"""MCP server administration pages. System administrators register servers (Streamable HTTP behind
the SSRF guard, or stdio for allow-listed commands), set their 機密性 clearance, fetch the tool list
and judge each tool read-only or effectful; team administrators turn tools on for their teams.
Every write goes through ``hiraga.mcp.registry`` with the caller's scope; these handlers only
translate forms and choose the answer (PRG, or the page again with the error)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.gateway.protocol import validated
from hiraga.identity import directory
from hiraga.mcp import protocol as wire
from hiraga.mcp import registry
from hiraga.mcp.calls import target_of
from hiraga.mcp.wiring import rules_of, toolbox_of
from hiraga.spine.authorize import AccessScope
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import (
    PageRoute,
    PageScope,
    SystemAdminPageScope,
    TeamAdminPageScope,
    commit_and_redirect,
    form_redirect,
    render,
    render_failure,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LIST_TEMPLATE, SERVER_TEMPLATE = "admin_mcp.html", "admin_mcp_server.html"


# -- forms -----------------------------------------------------------------------------------------
def parse_headers(text: str) -> dict[str, str]:
    """``名前: 値`` one per line (blank lines skipped)."""
    headers: dict[str, str] = {}
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            message = "ヘッダーは 1 行に 1 つ、「名前: 値」の形で書いてください。"
            raise InvalidInput(message, detail={"field": "headers"})
        headers[name.strip()] = value.strip()
    return headers


def parse_command(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise InvalidInput("コマンドの引用符が閉じていません。", detail={"field": "command"}) from None


def approval_seconds(form: FormData) -> int | None:
    """承認の有効期限（分） as seconds; empty: None (the platform's setting)."""
    text = str(form.get("approval_minutes") or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 1440:
        message = "承認の有効期限は 1〜1,440 分の整数で指定してください（空欄は既定）。"
        raise InvalidInput(message, detail={"field": "approval_minutes"})
    return int(text) * 60


def create_spec(form: FormData) -> wire.ServerCreate:
    transport = str(form.get("transport") or "http")
    values: dict[str, Any] = {
        "name": str(form.get("name") or "").strip(),
        "description": str(form.get("description") or "").strip(),
        "transport": transport,
        "url": str(form.get("url") or "").strip() if transport == "http" else "",
        "command": parse_command(str(form.get("command") or "")) if transport == "stdio" else [],
        "headers": parse_headers(str(form.get("headers") or "")),
        "clearance": str(form.get("clearance") or "1"),
        "timeout_seconds": str(form.get("timeout_seconds") or "30"),
        "approval_ttl_seconds": approval_seconds(form),
    }
    return validated(wire.ServerCreate, values)


def update_spec(form: FormData) -> wire.ServerUpdate:
    values = {
        "description": str(form.get("description") or "").strip(),
        "clearance": str(form.get("clearance") or "1"),
        "timeout_seconds": str(form.get("timeout_seconds") or "30"),
        "approval_ttl_seconds": approval_seconds(form) or 0,  # 0: back to the platform's setting
        "enabled": "enabled" in form,
    }
    return validated(wire.ServerUpdate, values)


def echo(form: FormData) -> dict[str, Any]:
    """The form as submitted, to show again after an error (header values are never shown back)."""
    keys = ("name", "description", "transport", "url", "command", "approval_minutes")
    return {key: str(form.get(key) or "") for key in keys} | {
        "clearance": str(form.get("clearance") or "1"),
        "timeout_seconds": str(form.get("timeout_seconds") or "30"),
    }


# -- contexts --------------------------------------------------------------------------------------
def list_context(request: Request, db: Session, scope: AccessScope, **extra: Any) -> dict[str, Any]:
    servers = [registry.server_view(db, row) for row in registry.list_servers(db, scope)]
    admin = scope.principal
    teams = [t for t in directory.list_teams(db, scope) if admin.is_system_admin or t.id in admin.admin_team_ids]
    settings = app_context(request).settings
    return {
        "servers": servers,
        "teams": teams,
        "tools": [tool for server in servers if server.enabled for tool in server.tools if tool.available],
        "stdio_commands": settings.mcp_stdio_commands,
        "approval_minutes": settings.mcp_approval_ttl_seconds // 60,
        "form": {"transport": "http", "clearance": "1", "timeout_seconds": "30"},
        **extra,
    }


def server_context(request: Request, db: Session, scope: AccessScope, server_id: int, **extra: Any) -> dict[str, Any]:
    view = registry.server_view(db, registry.get_server(db, scope, server_id))
    teams = {team.id: team.name for team in directory.list_teams(db, scope)}
    settings = app_context(request).settings
    return {
        "server": view,
        "teams": teams,
        "approval_minutes": settings.mcp_approval_ttl_seconds // 60,
        "server_minutes": (view.approval_ttl_seconds or settings.mcp_approval_ttl_seconds) // 60,
        "form": {
            "description": view.description,
            "clearance": view.clearance,
            "timeout_seconds": view.timeout_seconds,
            "approval_minutes": view.approval_ttl_seconds // 60 if view.approval_ttl_seconds else "",
        },
        **extra,
    }


def _on_server_page(
    request: Request, db: Session, scope: AccessScope, server_id: int, action: Callable[[], object], notice: str
) -> Response:
    scope.require_system_admin()
    context = lambda: server_context(request, db, scope, server_id)  # noqa: E731
    return form_redirect(
        request, db, action, then=f"/admin/mcp/{server_id}?notice={notice}", template=SERVER_TEMPLATE, context=context
    )


# -- the list: servers (system admins) and tools per team (team admins) ---------------------------------
@router.get("/admin/mcp")
def mcp_page(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, LIST_TEMPLATE, list_context(request, db, scope, notice=notice))


@router.post("/admin/mcp")
async def create_server(request: Request, db: DbSession, scope: SystemAdminPageScope) -> Response:
    scope.require_system_admin()
    form = await request.form()
    rules = rules_of(app_context(request).settings)

    def create() -> Response:
        action = lambda: registry.create_server(db, scope, create_spec(form), rules)  # noqa: E731
        context = lambda: list_context(request, db, scope, form=echo(form))  # noqa: E731
        return form_redirect(
            request, db, action, then="/admin/mcp?notice=mcp_server_created", template=LIST_TEMPLATE, context=context
        )

    return await anyio.to_thread.run_sync(create)


@router.post("/admin/mcp/tools/{tool_id}/teams/{team_id}")
def set_team(
    request: Request,
    db: DbSession,
    scope: TeamAdminPageScope,
    tool_id: RowId,
    team_id: RowId,
    enabled: Annotated[str, Form()] = "",
) -> Response:
    action = lambda: registry.set_team(db, scope, tool_id, team_id, enabled == "1")  # noqa: E731
    notice = "mcp_tool_enabled" if enabled == "1" else "mcp_tool_disabled"
    context = lambda: list_context(request, db, scope)  # noqa: E731
    return form_redirect(
        request, db, action, then=f"/admin/mcp?notice={notice}#team-tools", template=LIST_TEMPLATE, context=context
    )


# -- one server (system admins) ----------------------------------------------------------------------
@router.get("/admin/mcp/{server_id:int}")
def server_page(
    request: Request, db: DbSession, scope: SystemAdminPageScope, server_id: RowId, notice: str = ""
) -> Response:
    return render(request, SERVER_TEMPLATE, server_context(request, db, scope, server_id, notice=notice))


@router.post("/admin/mcp/{server_id:int}")
async def update_server(request: Request, db: DbSession, scope: SystemAdminPageScope, server_id: RowId) -> Response:
    form = await request.form()
    action = lambda: registry.update_server(db, scope, server_id, update_spec(form))  # noqa: E731
    return await anyio.to_thread.run_sync(
        lambda: _on_server_page(request, db, scope, server_id, action, "mcp_server_saved")
    )


@router.post("/admin/mcp/{server_id:int}/delete")
def delete_server(request: Request, db: DbSession, scope: SystemAdminPageScope, server_id: RowId) -> Response:
    scope.require_system_admin()
    action = lambda: registry.delete_server(db, scope, server_id)  # noqa: E731
    context = lambda: server_context(request, db, scope, server_id)  # noqa: E731
    return form_redirect(
        request, db, action, then="/admin/mcp?notice=mcp_server_deleted", template=SERVER_TEMPLATE, context=context
    )


@router.post("/admin/mcp/{server_id:int}/tools/{tool_id}/effect")
def set_effect(
    request: Request,
    db: DbSession,
    scope: SystemAdminPageScope,
    server_id: RowId,
    tool_id: RowId,
    effect: Annotated[str, Form()] = "",
) -> Response:
    def action() -> object:
        return registry.set_effect(db, scope, tool_id, validated(wire.ToolEffect, {"effect": effect}).effect)

    return _on_server_page(request, db, scope, server_id, action, "mcp_effect_saved")


@router.post("/admin/mcp/{server_id:int}/refresh")
async def refresh_tools(request: Request, db: DbSession, scope: SystemAdminPageScope, server_id: RowId) -> Response:
    """ツール一覧を取得: connects to the server; a server that is down or answers badly is an error on the page."""
    scope.require_system_admin()
    toolbox = toolbox_of(app_context(request))

    def target() -> Any:
        row = registry.get_server(db, scope, server_id)
        db.commit()  # no transaction stays open while the server is asked
        return target_of(row, toolbox.box)

    try:
        listed = await toolbox.connector.list_tools(await anyio.to_thread.run_sync(target))
    except HiragaError as failure:
        return await anyio.to_thread.run_sync(_refresh_failed, request, db, scope, server_id, failure)

    def store() -> Response:
        row = registry.get_server(db, scope, server_id)
        registry.store_tools(db, scope, row, listed)
        return commit_and_redirect(request, db, f"/admin/mcp/{server_id}?notice=mcp_tools_refreshed")

    return await anyio.to_thread.run_sync(store)


def _refresh_failed(request: Request, db: Session, scope: AccessScope, server_id: int, error: HiragaError) -> Response:
    context = lambda: server_context(request, db, scope, server_id)  # noqa: E731
    return render_failure(request, db, SERVER_TEMPLATE, error, context)
