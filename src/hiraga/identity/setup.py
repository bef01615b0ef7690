"""First run: a one-time setup URL lets the first system admin be created in the browser."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hiraga.errors import Forbidden
from hiraga.identity import tokens
from hiraga.identity.directory import count_users
from hiraga.store.tables import SystemState

SETUP_KEY = "setup_token_digest"


def issue_setup_token(db: Session) -> str | None:
    """A fresh setup token while the platform has no users; None once it has."""
    if count_users(db) > 0:
        return None
    token = tokens.new_token()
    row = db.get(SystemState, SETUP_KEY)
    if row is None:
        db.add(SystemState(key=SETUP_KEY, value=tokens.digest(token)))
    else:
        row.value = tokens.digest(token)
    db.flush()
    return token


def check_setup_token(db: Session, token: str) -> None:
    row = db.get(SystemState, SETUP_KEY)
    if count_users(db) > 0 or row is None or not tokens.same(row.value, tokens.digest(token)):
        raise Forbidden("セットアップ用 URL が無効か、既に使用されています。", code="setup_token_invalid")


def consume_setup_token(db: Session) -> None:
    db.execute(delete(SystemState).where(SystemState.key == SETUP_KEY))
