"""Pure ASGI middlewares (no per-request task spawning): the request id, the client address, body size
limit, HSTS and Prometheus metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hiraga.logs import request_id
from hiraga.net.client_address import TrustedProxies
from hiraga.web import access_log

TOO_LARGE = orjson.dumps(
    {"error": {"code": "payload_too_large", "message": "リクエストが大きすぎます。", "detail": None}}
)


REQUEST_ID = re.compile(rb"[A-Za-z0-9._\-]{1,64}")


class RequestId:
    """The request's id for logs (``hiraga.logs``) and the ``X-Request-ID`` response header: the
    client's or proxy's when it is a short token, else a new one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope["headers"]).get(b"x-request-id", b"")
        ident = offered.decode() if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        token = request_id.set(ident)

        try:
            await self.app(scope, receive, adding_header(send, (b"x-request-id", ident.encode())))
        finally:
            request_id.reset(token)


class ClientAddress:
    """Puts the client's address (``hiraga.net.client_address``) into ``scope["client"]``, so
    ``request.client.host`` is the decided address everywhere. From a trusted proxy, its
    ``X-Forwarded-Proto`` also sets the scheme. uvicorn's own proxy handling is off (``hiraga serve``)."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            host, port = (str(peer[0]), int(peer[1])) if peer else (None, 0)
            if host is not None and self.trusted.trusts(host):
                headers = scope["headers"]
                forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
                scope["client"] = (self.trusted.client_address(host, forwarded), port)
                proto = dict(headers).get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Refuses bodies over ``limit`` bytes, declared or streamed, with the JSON error shape."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_too_large(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_too_large(send)


class StrictTransportSecurity:
    """Tells browsers to use HTTPS only (installed when the base URL is https)."""

    HEADER = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, adding_header(send, self.HEADER))


def adding_header(send: Send, header: tuple[bytes, bytes]) -> Send:
    """``send``, with ``header`` added to the response's headers."""

    async def with_header(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), header]}
        await send(message)

    return with_header


class _BodyTooLarge(Exception):
    pass


async def _send_too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(TOO_LARGE)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})


class Metrics:
    """Request counts and latencies by route template, method and status."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry, log_requests: bool = False) -> None:
        self.app = app
        self.log_requests = log_requests  # one line per request (web/access_log.py)
        self.requests = Counter(
            "hiraga_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "hiraga_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = _route_template(scope)
            elapsed = time.perf_counter() - started
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(scope["method"], route).observe(elapsed)
            if self.log_requests:
                access_log.record(scope, status, elapsed)


def _route_template(scope: MutableMapping[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
