"""hiraga as an MCP server: the official SDK's ``MCPServer`` with hiraga's tools, served over
Streamable HTTP at ``/mcp``.

``McpEndpoint`` is the ASGI app in front: it takes only ``Authorization: Bearer <hiraga API key>``
(the spine's authenticate step; a refused key is audited there), puts the key owner's Principal in a
context variable for the tools, and answers each request with a fresh stateless session manager, so
any number of ``hiraga serve`` processes serve one client alike. Every tool call is an audit record
(``mcp_tool_served``) with the arguments PII-masked, the result size and the duration.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import ToolAnnotations
from pydantic import Field
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from hiraga import __version__
from hiraga.errors import HiragaError, NotAuthenticated
from hiraga.identity.principal import Principal
from hiraga.mcp import record
from hiraga.mcp.server_tools import ServedTools
from hiraga.spine import authenticate
from hiraga.web.context import AppContext

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
CALLER: contextvars.ContextVar[Principal] = contextvars.ContextVar("hiraga_mcp_caller")
INSTRUCTIONS = (
    "hiraga（行政向け生成 AI 基盤）のツールです。ナレッジベースの検索（引用付き）、公開されたアプリの実行、"
    "公用文チェック、個人情報のマスキングができます。API キーの持ち主のチーム権限の範囲で動きます。"
)


def build_server(ctx: AppContext) -> MCPServer[Any]:
    """The MCP server with hiraga's tools; each call runs as the key owner and is audited."""
    tools = ServedTools(ctx)
    server: MCPServer[Any] = MCPServer("hiraga", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    audited = _auditor(ctx)

    @server.tool(description="読めるナレッジベースの一覧（id・名前・機密性）。", annotations=_READ_ONLY)
    async def list_knowledge_bases() -> Any:
        return await audited("list_knowledge_bases", {}, tools.list_knowledge_bases)

    @server.tool(
        description="ナレッジベースを検索し、番号付きの引用（文書名・ページ・条・見出し・本文）を返す。",
        annotations=_READ_ONLY,
    )
    async def search_knowledge(
        knowledge_base: Annotated[str, Field(description="ナレッジベースの id または名前")],
        query: Annotated[str, Field(description="検索語（2000 文字まで）")],
        top_k: Annotated[int, Field(description="返す件数（1〜20）")] = 5,
    ) -> Any:
        args = {"knowledge_base": knowledge_base, "query": query, "top_k": top_k}
        return await audited(
            "search_knowledge", args, lambda p: tools.search_knowledge(p, knowledge_base, query, top_k)
        )

    @server.tool(
        description="実行できるアプリ（タスクアプリと公開された AI アプリ）の一覧と入力項目。", annotations=_READ_ONLY
    )
    async def list_apps() -> Any:
        return await audited("list_apps", {}, tools.list_apps)

    @server.tool(description="アプリを実行する。出力はモデルが書いたもので、確認されていない。")
    async def run_app(
        app: Annotated[str, Field(description="アプリの名前（list_apps の name）")],
        inputs: Annotated[dict[str, Any], Field(description="入力（list_apps の inputs のキー）")],
        model: Annotated[str | None, Field(description="タスクアプリで使うモデル（省略時は既定）")] = None,
    ) -> Any:
        args = {"app": app, "inputs": inputs, "model": model}
        return await audited("run_app", args, lambda p: tools.run_app(p, app, inputs, model))

    @server.tool(description="公用文の書き方をチェックし、規則に基づく指摘を返す。", annotations=_READ_ONLY)
    async def check_kouyoubun(text: Annotated[str, Field(description="チェックする文章")]) -> Any:
        return await audited("check_kouyoubun", {"text": text}, lambda p: tools.check_kouyoubun(text))

    @server.tool(
        description="文章の個人情報（マイナンバー、電話番号、氏名など）を記号に置き換える。", annotations=_READ_ONLY
    )
    async def mask_pii(text: Annotated[str, Field(description="マスキングする文章")]) -> Any:
        return await audited("mask_pii", {"text": text}, lambda p: tools.mask_pii(text))

    return server


Work = Callable[[Principal], Awaitable[Any]]


def _auditor(ctx: AppContext) -> Callable[[str, dict[str, Any], Work], Awaitable[Any]]:
    async def audited(tool: str, arguments: dict[str, Any], work: Work) -> Any:
        principal = CALLER.get()
        started = time.monotonic()
        error: HiragaError | None = None
        size = 0
        try:
            result = await work(principal)
            size = len(json.dumps(result, ensure_ascii=False, default=str))
            return result
        except HiragaError as exc:
            error = exc
            raise ToolError(f"{exc.message}（{exc.code}）") from exc
        finally:
            facts = {"result_chars": size, "duration_ms": round((time.monotonic() - started) * 1000, 1)}
            row = record.tool_row(record.TOOL_SERVED, principal, tool, arguments, facts, error=error)
            await anyio.to_thread.run_sync(lambda: record.write(ctx.database, row))

    return audited


class McpEndpoint:
    """ASGI app for ``/mcp``: bearer API key → Principal → the SDK's Streamable HTTP handling."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.server = build_server(ctx)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            principal = await anyio.to_thread.run_sync(lambda: self._authenticate(scope))
        except HiragaError as exc:
            await _refusal(exc)(scope, receive, send)
            return
        token = CALLER.set(principal)
        try:
            # MCPServer builds its one session manager for its own Starlette app and runs it in that app's
            # lifespan; hiraga serves /mcp from its own app, so each request gets a stateless manager over
            # the low-level server (the SDK has no public accessor for it: pinned to mcp 2.x)
            manager = StreamableHTTPSessionManager(app=self.server._lowlevel_server, stateless=True, json_response=True)
            async with manager.run():
                await manager.handle_request(scope, receive, send)
        finally:
            CALLER.reset(token)

    def _authenticate(self, scope: Scope) -> Principal:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        with self.ctx.database.session() as db:
            principal = authenticate.from_bearer(db, headers.get("authorization"), client[0] if client else None)
        if principal is None:
            raise NotAuthenticated("MCP の接続には「Authorization: Bearer <hiraga の API キー>」が必要です。")
        return principal


def _refusal(error: HiragaError) -> JSONResponse:
    body = {"error": {"code": error.code, "message": error.message}}
    headers = {"WWW-Authenticate": 'Bearer realm="hiraga"'} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, headers=headers)
