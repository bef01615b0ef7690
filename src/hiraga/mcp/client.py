"""hiraga as an MCP client: list and call the tools of a registered server with the official SDK.

Streamable HTTP: the URL's host is resolved and checked by the outbound guard (no loopback,
link-local, private or metadata address unless an administrator allow-listed the host) before every
request; the request is then sent to the checked address (the ``Host`` header and TLS keep the
name: ``net.outbound.AsyncPinnedTransport``), so a DNS answer that changes in between cannot steer
the call inside, over http or https. Redirects off the server's origin are not followed
(the SDK's rule). stdio: only commands on ``HIRAGA_MCP_STDIO_COMMANDS`` are started, with the SDK's
minimal environment. Every call is bounded by the server's timeout; results are capped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import httpx2
from mcp.client.streamable_http import streamable_http_client

from hiraga.errors import HiragaError, UpstreamFailed
from hiraga.mcp.registry import ListedTool, check_command
from hiraga.net.outbound import AsyncPinnedTransport, OutboundClient
from mcp import Client, StdioServerParameters

T = TypeVar("T")


class ToolServerFailed(UpstreamFailed):
    code = "mcp_server_failed"
    message = "ツールのサーバーから正しい応答が得られませんでした。"


@dataclass(frozen=True, slots=True)
class ServerTarget:
    """Everything needed to reach one registered server (secrets decrypted, kept in memory only)."""

    name: str
    transport: str
    url: str = ""
    command: Sequence[str] = ()
    headers: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str  # capped to the limit
    chars: int  # the whole result's length
    is_error: bool  # the tool said it failed
    truncated: bool


@dataclass(frozen=True, slots=True)
class Connector:
    """The policy for outgoing MCP connections."""

    allowed_hosts: tuple[str, ...] = ()
    stdio_commands: tuple[str, ...] = ()
    max_result_chars: int = 20_000

    async def list_tools(self, target: ServerTarget) -> list[ListedTool]:
        async def work(client: Client) -> list[ListedTool]:
            listed = await client.list_tools()
            return [
                ListedTool(tool.name, tool.description or "", dict(tool.input_schema or {})) for tool in listed.tools
            ]

        return await self._session(target, work)

    async def call_tool(self, target: ServerTarget, name: str, arguments: dict[str, Any]) -> ToolResult:
        async def work(client: Client) -> ToolResult:
            result = await client.call_tool(name, arguments)
            text = "\n".join(_part_text(part) for part in result.content)
            if not text and result.structured_content is not None:
                text = str(result.structured_content)
            cap = self.max_result_chars
            return ToolResult(text[:cap], len(text), bool(result.is_error), len(text) > cap)

        return await self._session(target, work)

    async def _session(self, target: ServerTarget, work: Callable[[Client], Awaitable[T]]) -> T:
        try:
            with anyio.fail_after(target.timeout_seconds):
                async with self._connect(target) as client:
                    return await work(client)
        except TimeoutError as exc:
            raise ToolServerFailed(
                f"ツールのサーバー「{target.name}」が {target.timeout_seconds:g} 秒以内に応答しませんでした。",
                code="mcp_server_timeout",
            ) from exc
        except HiragaError:
            raise
        except Exception as exc:  # connection refused, malformed JSON-RPC, protocol errors: all the server's
            raise ToolServerFailed(
                f"ツールのサーバー「{target.name}」に接続できないか、応答の形式が正しくありません。",
                detail={"reason": type(exc).__name__},
            ) from exc

    @asynccontextmanager
    async def _connect(self, target: ServerTarget) -> AsyncIterator[Client]:
        if target.transport == "stdio":
            check_command(target.command, self.stdio_commands)
            params = StdioServerParameters(command=target.command[0], args=list(target.command[1:]))
            async with Client(params, cache=None, mode="legacy") as client:
                yield client
            return
        outbound = OutboundClient(allowed_hosts=self.allowed_hosts)
        await outbound.pin(target.url)  # a refused address is told as such, not as a failed session
        transport = AsyncPinnedTransport(outbound)  # and every request of the session is pinned again
        async with (
            httpx2.AsyncClient(
                headers=dict(target.headers), timeout=target.timeout_seconds, transport=transport, trust_env=False
            ) as http,
            Client(streamable_http_client(target.url, http_client=http), cache=None) as client,
        ):
            yield client


def _part_text(part: Any) -> str:
    text = getattr(part, "text", None)
    if isinstance(text, str):
        return text
    return f"[{getattr(part, 'type', 'content')}]"
