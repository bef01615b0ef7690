"""``hiraga serve``'s request log: one line per request on stderr — method, path (never the query
string: setup tokens and search words stay out), status, milliseconds, client address. No headers,
no bodies, no cookies. On when ``HIRAGA_ACCESS_LOG`` is true (``serve`` turns it on)."""

from __future__ import annotations

import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hiraga.access")


def enable() -> None:
    """Send the log to stderr once per process (workers included)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = (scope.get("client") or ("-", 0))[0]
            path = scope.get("path", "").replace("\n", "").replace("\r", "")[:300]
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.0fms %s", scope.get("method", "-"), path, status or "-", elapsed, client)
