"""The hardened HTTP client for calls to user-registered URLs.

Every request: the host name is resolved ONCE; if any address it resolves to is loopback,
link-local, private, multicast, reserved or a cloud-metadata address, the call is refused unless a
system administrator allow-listed that host. The connection then goes to the address that was
checked (the URL's host is replaced by the pinned IP; ``Host`` and TLS SNI/certificate checks keep
the real name), so a DNS answer that changes between check and connect (rebinding) cannot steer
the call inside. Redirects are never followed, the response body is capped, TLS is verified.

``PinnedTransport`` puts the same pinning under a blocking ``httpx2`` client (authlib's OAuth client
for single sign-on): each request it sends is resolved, checked and connected exactly like ``request``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import httpx2

from hiraga.errors import InvalidInput, UpstreamFailed
from hiraga.gateway.ssrf import host_of, is_public

Resolver = Callable[[str, int], Awaitable[list[str]]]
DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
# Cloud metadata services: never reachable, even for an allow-listed host name.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200"})


class OutboundRefused(InvalidInput):
    code = "outbound_refused"
    message = "この接続先には接続できません。"


class OutboundFailed(UpstreamFailed):
    code = "outbound_failed"
    message = "接続先から正しい応答が得られませんでした。"


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    peer_address: str  # the pinned address the request went to


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where a checked request goes: the URL with the pinned address for its host, the ``Host`` header
    and (for https) the TLS server name, both the real host name."""

    url: str
    host_header: str
    extensions: dict[str, str]

    @classmethod
    def of(cls, url: str, host: str, port: int, address: str) -> PinnedTarget:
        parts = urlsplit(url)
        ip_host = f"[{address}]" if ":" in address else address
        pinned_url = urlunsplit((parts.scheme, f"{ip_host}:{port}", parts.path or "/", parts.query, ""))
        host_header = host if DEFAULT_PORTS[parts.scheme] == port else f"{host}:{port}"
        return cls(pinned_url, host_header, {"sni_hostname": host} if parts.scheme == "https" else {})


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass
class OutboundClient:
    """One policy for outgoing calls; ``allowed_hosts`` entries are ``host`` or ``host:port``."""

    allowed_hosts: Iterable[str] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    verify_tls: bool = True
    resolver: Resolver = system_resolver
    _allowed: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self._allowed = frozenset(h.strip().lower() for h in self.allowed_hosts if h.strip())

    def is_allow_listed(self, host: str, port: int) -> bool:
        return host in self._allowed or f"{host}:{port}" in self._allowed

    async def pin(self, url: str) -> tuple[str, int, str]:
        """(host, port, address to connect to), or OutboundRefused / OutboundFailed."""
        try:
            host, explicit_port = host_of(url)
        except InvalidInput as exc:
            raise OutboundRefused(exc.message, detail={"url": url}) from exc
        port = explicit_port or DEFAULT_PORTS[urlsplit(url).scheme]
        literal = _literal_ip(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = await self.resolver(host, port)
            except OSError as exc:
                raise OutboundFailed(f"接続先 {host} の名前を解決できません。", code="outbound_unresolvable") from exc
            if not addresses:
                raise OutboundFailed(f"接続先 {host} の名前を解決できません。", code="outbound_unresolvable")
        for address in addresses:
            self._check_address(host, port, address)
        return host, port, addresses[0]

    def _check_address(self, host: str, port: int, address: str) -> None:
        if address in METADATA_ADDRESSES or _literal_ip(address) in METADATA_ADDRESSES:
            raise OutboundRefused(
                f"接続先 {host}（{address}）はクラウドのメタデータ用アドレスのため接続できません。",
                detail={"host": host, "address": address},
            )
        if self.is_allow_listed(host, port) or is_public(address):
            return
        raise OutboundRefused(
            f"接続先 {host}（{address}）は内部向けのアドレスのため接続できません。"
            "組織内のサーバーを使う場合は、システム管理者が HIRAGA_ALLOWED_UPSTREAM_HOSTS に"
            "ホスト名を追加してください。",
            detail={"host": host, "address": address},
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        timeout: float = 30.0,
    ) -> OutboundResponse:
        host, port, address = await self.pin(url)
        target = PinnedTarget.of(url, host, port, address)
        try:
            async with (
                httpx.AsyncClient(verify=self.verify_tls, follow_redirects=False, trust_env=False) as client,
                client.stream(
                    method,
                    target.url,
                    headers={**(headers or {}), "Host": target.host_header},
                    json=json_body,
                    timeout=timeout,
                    extensions=target.extensions,
                ) as response,
            ):
                body = await self._read_capped(response, host)
        except httpx.TimeoutException as exc:
            raise OutboundFailed(f"接続先 {host} が時間内に応答しませんでした。", code="outbound_timeout") from exc
        except httpx.HTTPError as exc:
            raise OutboundFailed(f"接続先 {host} に接続できませんでした。", code="outbound_unreachable") from exc
        if 300 <= response.status_code < 400:
            raise OutboundFailed(
                f"接続先 {host} がリダイレクトを返しました（リダイレクトには従いません）。",
                code="outbound_redirect",
                detail={"status": response.status_code},
            )
        return OutboundResponse(response.status_code, dict(response.headers), body, address)

    async def _read_capped(self, response: httpx.Response, host: str) -> bytes:
        self.refuse_declared_over_cap(response.headers, host)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            self.refuse_over_cap(size, host)
            chunks.append(chunk)
        return b"".join(chunks)

    def refuse_declared_over_cap(self, headers: Mapping[str, str], host: str) -> None:
        """A body whose declared length is over the cap is refused before it is read."""
        declared = headers.get("content-length", "")
        if declared.isdigit():
            self.refuse_over_cap(int(declared), host)

    def refuse_over_cap(self, size: int, host: str) -> None:
        if size > self.max_response_bytes:
            limit_mb = self.max_response_bytes / (1024 * 1024)
            raise OutboundFailed(
                f"接続先 {host} の応答が大きすぎます（上限 {limit_mb:g} MB）。",
                code="outbound_response_too_large",
            )


def _pinned_request(request: httpx2.Request, host: str, port: int, address: str) -> httpx2.Request:
    """The request sent to the checked address, ``Host`` and TLS keeping the real name."""
    url = str(request.url)
    target = PinnedTarget.of(url, host, port, address)
    headers = request.headers.copy()
    headers["Host"] = target.host_header
    return httpx2.Request(
        request.method,
        target.url,
        headers=headers,
        stream=request.stream,
        extensions={**request.extensions, **target.extensions},
    )


class PinnedTransport(httpx2.BaseTransport):
    """A blocking ``httpx2`` transport that sends every request through ``outbound``'s pinning: the
    host is resolved once and checked, and the connection goes to that very address (``Host`` and
    TLS keep the real name), and the body is cut at ``outbound.max_response_bytes``. OutboundRefused /
    OutboundFailed come out of the client's call as they are. Use it from a thread without a running
    event loop (a worker thread, the command line)."""

    def __init__(self, outbound: OutboundClient) -> None:
        self._outbound = outbound
        self._inner = httpx2.HTTPTransport(verify=outbound.verify_tls, trust_env=False)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        pinned = asyncio.run(self._outbound.pin(str(request.url)))  # the resolver is a coroutine
        response = self._inner.handle_request(_pinned_request(request, *pinned))
        try:
            self._outbound.refuse_declared_over_cap(response.headers, pinned[0])
        except OutboundFailed:
            response.close()
            raise
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _CappedStream(response.stream, self._outbound, pinned[0])
        return response

    def close(self) -> None:
        self._inner.close()


class _CappedStream(httpx2.SyncByteStream):
    """A response body that stops with ``outbound_response_too_large`` once it passes the cap, however
    it is sent (declared length or chunked)."""

    def __init__(self, inner: httpx2.SyncByteStream, outbound: OutboundClient, host: str) -> None:
        self._inner, self._outbound, self._host = inner, outbound, host

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self._inner:
            size += len(chunk)
            self._outbound.refuse_over_cap(size, self._host)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class AsyncPinnedTransport(httpx2.AsyncBaseTransport):
    """``PinnedTransport`` for an ``httpx2.AsyncClient`` (the MCP SDK's streamable HTTP client): every
    request, plain http or https, is resolved once, checked and sent to that very address."""

    def __init__(self, outbound: OutboundClient) -> None:
        self._outbound = outbound
        self._inner = httpx2.AsyncHTTPTransport(verify=outbound.verify_tls, trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        pinned = await self._outbound.pin(str(request.url))
        return await self._inner.handle_async_request(_pinned_request(request, *pinned))

    async def aclose(self) -> None:
        await self._inner.aclose()
