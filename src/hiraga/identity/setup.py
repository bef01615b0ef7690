"""First run: a one-time setup URL lets the first system admin be created in the browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hiraga.errors import Forbidden
from hiraga.identity import tokens
from hiraga.identity.directory import count_users
from hiraga.store.tables import SystemState

TOKEN_KEY_PREFIX = "setup_token:"  # one row per issued token: key = prefix + digest, value = issue time
LEGACY_KEY = "setup_token_digest"  # the single row of earlier versions
# Processes that start within this window of each other (replicas of a scale-out deployment) each
# print a URL that works; a start later than this invalidates the URLs printed before it.
START_OVERLAP = timedelta(minutes=15)


def issue_setup_token(db: Session, *, now: datetime | None = None) -> str | None:
    """A fresh setup token while the platform has no users; None once it has.

    Each start inserts its own row, so processes starting together on one fresh database never
    collide on a key; tokens issued more than ``START_OVERLAP`` earlier are withdrawn."""
    if count_users(db) > 0:
        return None
    now = now or datetime.now(UTC)
    for row in db.scalars(select(SystemState).where(SystemState.key.startswith(TOKEN_KEY_PREFIX, autoescape=True))):
        if now - datetime.fromisoformat(row.value) > START_OVERLAP:
            db.delete(row)
    db.execute(delete(SystemState).where(SystemState.key == LEGACY_KEY))
    token = tokens.new_token()
    db.add(SystemState(key=TOKEN_KEY_PREFIX + tokens.digest(token), value=now.isoformat()))
    db.flush()
    return token


def check_setup_token(db: Session, token: str) -> None:
    row = db.get(SystemState, TOKEN_KEY_PREFIX + tokens.digest(token))
    if count_users(db) > 0 or row is None:
        raise Forbidden("セットアップ用 URL が無効か、既に使用されています。", code="setup_token_invalid")


def consume_setup_token(db: Session) -> None:
    db.execute(delete(SystemState).where(SystemState.key.startswith(TOKEN_KEY_PREFIX, autoescape=True)))
