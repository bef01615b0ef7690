"""Audit exports as CSV or JSON Lines, produced a line at a time (memory stays flat)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from hiraga.audit.chain import AUDIT

Format = Literal["csv", "jsonl"]
FIELDS = tuple(c.name for c in AUDIT.columns)
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def csv_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header, then one line per record. Starts with a BOM so spreadsheet software reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    yield "\ufeff" + buffer.getvalue()
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if record.get(f) is None else _plain(record.get(f)) for f in FIELDS])
        yield buffer.getvalue()


def jsonl_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps({f: _plain(record.get(f)) for f in FIELDS}, ensure_ascii=False) + "\n"


def lines(records: Iterable[dict[str, Any]], fmt: Format) -> Iterator[str]:
    return csv_lines(records) if fmt == "csv" else jsonl_lines(records)
