"""Browser sessions stored in the database, so every process behind a load balancer shares them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hiraga.identity import tokens
from hiraga.store.tables import WebSession


def start_session(db: Session, user_id: int, ttl_hours: int) -> str:
    token = tokens.new_token()
    now = datetime.now(UTC)
    db.add(
        WebSession(
            digest=tokens.digest(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(hours=ttl_hours),
        )
    )
    db.execute(delete(WebSession).where(WebSession.expires_at < now))
    db.flush()
    return token


def find_session(db: Session, token: str) -> WebSession | None:
    row = db.get(WebSession, tokens.digest(token))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    return row


def end_session(db: Session, token: str) -> None:
    db.execute(delete(WebSession).where(WebSession.digest == tokens.digest(token)))


def end_all_sessions(db: Session, user_id: int) -> None:
    db.execute(delete(WebSession).where(WebSession.user_id == user_id))
