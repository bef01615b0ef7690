"""``hiraga serve``'s request log: one line per request on stderr — method, path (never the query
string: setup tokens and search words stay out), status, milliseconds, client address. No headers,
no bodies, no cookies. On when ``HIRAGA_ACCESS_LOG`` is true (``serve`` turns it on); the Metrics
middleware, which already times every request, writes it."""

from __future__ import annotations

import logging

from starlette.types import Scope

from hiraga import logs

log = logging.getLogger("hiraga.access")


def enable(log_format: str) -> None:
    """Write the lines through the one log handler (``hiraga.logs``: plain text, or one JSON object per
    line with the request id under ``HIRAGA_LOG_FORMAT=json``), once per process (workers included)."""
    if not any(getattr(h, "hiraga", False) for h in logging.getLogger().handlers):
        logs.configure(log_format)
    log.setLevel(logging.INFO)


def record(scope: Scope, status: int, seconds: float) -> None:
    """The line of one request (written by the Metrics middleware, which times every request)."""
    client = (scope.get("client") or ("-", 0))[0]
    path = str(scope.get("path", "")).replace("\n", "").replace("\r", "")[:300]
    log.info("%s %s %s %.0fms %s", scope.get("method", "-"), path, status or "-", seconds * 1000, client)
