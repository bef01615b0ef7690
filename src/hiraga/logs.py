"""Logging: plain text by default; one JSON object per line with ``HIRAGA_LOG_FORMAT=json`` (for log
collectors), each carrying the request id of the HTTP request it was written for.

The request id is the client's ``X-Request-ID`` when it is a short token (a proxy's id follows the
request through), else a new one; every response returns it (``web/middleware.RequestId``). Logs never
carry secrets: hiraga does not log keys, passwords or prompts, and the formatter masks anything shaped
like an API key or a bearer token that reaches a message (an exception text, say) all the same.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

request_id: ContextVar[str | None] = ContextVar("hiraga_request_id", default=None)
SECRET_SHAPES = re.compile(r"(hk-[A-Za-z0-9_\-]{8,}|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{8,}|postgres(?:ql)?://[^\s@]*@)")


def mask(text: str) -> str:
    return SECRET_SHAPES.sub("[秘匿]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            entry["error"] = mask(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def configure(log_format: str) -> None:
    """Install the one handler on the root logger (idempotent: a second call replaces it). hiraga's and
    uvicorn's server messages from INFO; libraries' from WARNING (httpx would log every request)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "hiraga", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.hiraga = True  # type: ignore[attr-defined]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("hiraga", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.INFO)
