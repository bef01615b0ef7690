"""Audit records of app events that are not runs: registrations, changes, refused inputs.

Written in their own transaction, after the caller's failed work was rolled back, so a refusal
leaves exactly one trace: its audit record.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from hiraga.audit.chain import append
from hiraga.errors import HiragaError
from hiraga.identity.principal import Principal
from hiraga.store.database import Database


def event_row(
    principal: Principal,
    action: str,
    *,
    error: HiragaError | None = None,
    team_id: int | None = None,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    facts = dict(detail or {})
    if error is not None:
        facts["message"] = error.message
    return {
        "occurred_at": datetime.now(UTC),
        "action": action,
        "request_id": uuid.uuid4().hex,
        "actor_user_id": principal.user_id or None,
        "actor_email": principal.email,
        "via": principal.via,
        "team_id": team_id,
        "api_key_id": principal.api_key_id,
        "client_address": principal.client_address,
        "model": subject,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_jpy": 0,
        "outcome": ("refused" if error.status < 500 else "failed") if error is not None else "ok",
        "error_code": error.code if error is not None else None,
        "source": "apps",
        "detail": json.dumps(facts, ensure_ascii=False, separators=(",", ":"))[:4000],
    }


def insert_event(connection: Connection, row: dict[str, Any]) -> None:
    append(connection, [row])


def record_event(database: Database, row: dict[str, Any]) -> None:
    """Synchronously, in a transaction of its own."""
    with database.engine.begin() as connection:
        insert_event(connection, row)
