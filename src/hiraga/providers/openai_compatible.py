"""Any OpenAI-compatible server: vLLM, SGLang, llama.cpp server, Ollama's /v1, commercial APIs, and
Azure OpenAI's ``/openai/deployments/<name>/...?api-version=`` form.

One pooled ``aiohttp.ClientSession`` per upstream origin and process, kept alive between calls; its
connection pool is sized to the endpoint's ``max_concurrent``. Every host name is resolved through
the outbound guard (``hiraga.net.outbound``): the connection goes to the very address that was
checked, so a DNS answer that changes after registration cannot steer a call inside. Streams are
relayed event by event as the upstream's own bytes; closing the iterator closes the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable, Mapping
from functools import lru_cache

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from hiraga.errors import HiragaError
from hiraga.net.outbound import OutboundClient, OutboundRefused
from hiraga.providers.base import EndpointConfig, Json, UpstreamError, UpstreamRejected
from hiraga.providers.sse import sse_events
from hiraga.settings import Settings

CLIENT_ERRORS = frozenset({400, 413, 422})
RETRY_SAME = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_ERROR_BODY = 2000
DEFAULT_POOL_SIZE = 256  # connections per origin when the endpoint sets no max_concurrent
KEEPALIVE_SECONDS = 60.0
DNS_CACHE_SECONDS = 10


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _upstream_message(content: bytes) -> str:
    try:
        data = orjson.loads(content)
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or "")[:MAX_ERROR_BODY]
    except orjson.JSONDecodeError:
        return content[:200].decode("utf-8", "replace")


def status_error(status: int, content: bytes, headers: Mapping[str, str]) -> Exception:
    detail = _upstream_message(content)
    if status in CLIENT_ERRORS:
        return UpstreamRejected(
            f"モデルサーバーがリクエストを受け付けませんでした（HTTP {status}）: {detail}".rstrip(": "),
            detail={"upstream_status": status},
        )
    return UpstreamError(
        f"モデルサーバーがエラーを返しました（HTTP {status}）。",
        upstream_status=status,
        retry_same=status in RETRY_SAME or status >= 500,
        retry_after=_retry_after(headers) if status == 429 else None,
    )


def transport_error(exc: BaseException) -> UpstreamError:
    """An aiohttp/socket failure, or the outbound guard's refusal, as the gateway's error."""
    if isinstance(exc, OutboundRefused):
        return UpstreamError(exc.message, code="upstream_address_refused", retry_same=False)
    if isinstance(exc, HiragaError):  # the name no longer resolves
        return UpstreamError(exc.message, code="upstream_unreachable")
    if isinstance(exc, TimeoutError):
        return UpstreamError("モデルサーバーの応答が時間内にありませんでした。", code="upstream_timeout")
    return UpstreamError(
        f"モデルサーバーに接続できないか、接続が切れました（{type(exc).__name__}）。", code="upstream_unreachable"
    )


TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError, HiragaError)


def _json_object(content: bytes, required: str) -> Json:
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get(required), list):
        raise UpstreamError("モデルサーバーの応答が JSON として正しくありません。", code="upstream_malformed")
    return data


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that answers only with addresses the outbound guard let through."""

    def __init__(self, guard: OutboundClient) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = f"[{host}]" if ":" in host else host
        _, _, address = await self._guard.pin(f"http://{name}:{port}/")
        found = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            ResolveResult(hostname=host, host=address, port=port, family=found, proto=0, flags=socket.AI_NUMERICHOST)
        ]

    async def close(self) -> None:
        return None


@lru_cache(maxsize=256)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """Like httpx's: each phase (pool wait + connect, every read) may take ``seconds``; no total."""
    return aiohttp.ClientTimeout(total=None, connect=seconds, sock_connect=min(10.0, seconds), sock_read=seconds)


@lru_cache(maxsize=1024)
def _openai_url(base_url: str, operation: str) -> URL:
    return URL(base_url.rstrip("/") + "/" + operation)


@lru_cache(maxsize=1024)
def _azure_url(base_url: str, deployment: str, operation: str, version: str) -> URL:
    return URL(f"{base_url.rstrip('/')}/openai/deployments/{deployment}/{operation}").with_query(
        {"api-version": version}
    )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class OpenAICompatibleProvider:
    requires_base_url = True

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        allowed_hosts: Iterable[str] | None = None,
        guard: OutboundClient | None = None,
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = settings.allowed_upstream_hosts if settings is not None else ()
        self._guard = guard or OutboundClient(allowed_hosts=tuple(allowed_hosts))
        self._sessions: dict[tuple[str, int], aiohttp.ClientSession] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _session(self, endpoint: EndpointConfig) -> aiohttp.ClientSession:
        """The pooled session for this endpoint's origin (created on first use in this event loop)."""
        if self._loop is not asyncio.get_running_loop():
            self._forget_sessions()
            self._loop = asyncio.get_running_loop()
        key = (endpoint.base_url, endpoint.max_concurrent)
        session = self._sessions.get(key)
        if session is None or session.closed:
            session = self._sessions[key] = await self._new_session(endpoint)
        return session

    async def _new_session(self, endpoint: EndpointConfig) -> aiohttp.ClientSession:
        host = URL(endpoint.base_url).host or ""
        if _is_ip_literal(host):  # aiohttp connects to literal addresses without asking the resolver
            await self._guard.pin(endpoint.base_url)
        connector = aiohttp.TCPConnector(
            limit=endpoint.max_concurrent or DEFAULT_POOL_SIZE,
            limit_per_host=0,
            keepalive_timeout=KEEPALIVE_SECONDS,
            resolver=GuardedResolver(self._guard),
            ttl_dns_cache=DNS_CACHE_SECONDS,
        )
        return aiohttp.ClientSession(connector=connector, trust_env=False, raise_for_status=False)

    def _forget_sessions(self) -> None:
        """Sessions of a finished event loop cannot be closed from another one: drop them."""
        for session in self._sessions.values():
            session.detach()
        self._sessions.clear()

    async def aclose(self) -> None:
        if self._loop is not asyncio.get_running_loop():
            self._forget_sessions()
            return
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            await session.close()

    # -- addressing --------------------------------------------------------------------------
    def url(self, endpoint: EndpointConfig, operation: str) -> URL:
        return _openai_url(endpoint.base_url, operation)

    def headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if endpoint.api_key:
            headers["authorization"] = f"Bearer {endpoint.api_key}"
        return headers

    def payload(self, endpoint: EndpointConfig, body: Json) -> bytes:
        return orjson.dumps({**body, "model": endpoint.upstream_model or body.get("model")})

    async def _send(self, endpoint: EndpointConfig, operation: str, body: Json) -> aiohttp.ClientResponse:
        session = await self._session(endpoint)
        return await session.post(
            self.url(endpoint, operation),
            data=self.payload(endpoint, body),
            headers=self.headers(endpoint),
            timeout=_timeout(endpoint.timeout_seconds),
            allow_redirects=False,
        )

    # -- calls -------------------------------------------------------------------------------
    async def _post(self, endpoint: EndpointConfig, operation: str, body: Json) -> bytes:
        try:
            response = await self._send(endpoint, operation, body)
            async with response:
                content = await response.read()
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc
        if response.status >= 400:
            raise status_error(response.status, content, response.headers)
        return content

    async def chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> Json:
        return _json_object(await self._post(endpoint, "chat/completions", body), "choices")

    async def embed(self, endpoint: EndpointConfig, body: Json) -> Json:
        return _json_object(await self._post(endpoint, "embeddings", body), "data")

    async def rerank(self, endpoint: EndpointConfig, body: Json) -> Json:
        return _json_object(await self._post(endpoint, "rerank", body), "results")

    async def stream_chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> AsyncIterator[bytes]:
        try:
            response = await self._send(endpoint, "chat/completions", body)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc
        complete = False
        try:
            await _check_stream_start(response)
            async for event in sse_events(response.content.iter_any()):
                yield event
            complete = True
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc
        finally:
            if complete:
                response.release()  # read to the end: the connection goes back to the pool
            else:
                response.close()  # abandoned or failed: drop the connection, the upstream stops


async def _check_stream_start(response: aiohttp.ClientResponse) -> None:
    if response.status >= 400:
        content = await response.read()
        raise status_error(response.status, content, response.headers)
    if "text/event-stream" not in response.headers.get("content-type", ""):
        raise UpstreamError("モデルサーバーがストリーミング形式で応答しませんでした。", code="upstream_malformed")


class AzureOpenAIProvider(OpenAICompatibleProvider):
    """Azure OpenAI: the deployment name is the upstream model, the key goes in ``api-key``."""

    def url(self, endpoint: EndpointConfig, operation: str) -> URL:
        return _azure_url(endpoint.base_url, endpoint.upstream_model, operation, endpoint.api_version or "2024-10-21")

    def headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if endpoint.api_key:
            headers["api-key"] = endpoint.api_key
        return headers

    def payload(self, endpoint: EndpointConfig, body: Json) -> bytes:
        return orjson.dumps({k: v for k, v in body.items() if k != "model"})
