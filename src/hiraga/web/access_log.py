"""``hiraga serve``'s request log: one line per request on stderr — method, path (never the query
string: setup tokens and search words stay out), status, milliseconds, client address. No headers,
no bodies, no cookies. On when ``HIRAGA_ACCESS_LOG`` is true (``serve`` turns it on); the Metrics
middleware, which already times every request, writes it."""

from __future__ import annotations

import logging
import sys

from starlette.types import Scope

log = logging.getLogger("hiraga.access")


def enable() -> None:
    """Send the log to stderr once per process (workers included)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def record(scope: Scope, status: int, seconds: float) -> None:
    """The line of one request (written by the Metrics middleware, which times every request)."""
    client = (scope.get("client") or ("-", 0))[0]
    path = str(scope.get("path", "")).replace("\n", "").replace("\r", "")[:300]
    log.info("%s %s %s %.0fms %s", scope.get("method", "-"), path, status or "-", seconds * 1000, client)
