"""Personal API keys: shown once, stored as a digest, named, revocable, expiring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import InvalidInput, NotFound
from hiraga.identity import tokens
from hiraga.identity.principal import Principal
from hiraga.names import check_characters
from hiraga.store.tables import ApiKey

MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True, slots=True)
class IssuedKey:
    row: ApiKey
    secret: str  # the only time the clear key exists


def issue_key(db: Session, actor: Principal, user_id: int, name: str, expires_days: int | None) -> IssuedKey:
    """``actor`` issues a key for ``user_id`` (themselves, or the CLI operator for a user)."""
    label = check_characters(name.strip())
    if not label or len(label) > 100:
        raise InvalidInput("API キーの名前は 1〜100 文字で入力してください。", detail={"field": "name"})
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(f"有効期限は 1〜{MAX_EXPIRY_DAYS} 日で指定してください。", detail={"field": "expires_days"})
    secret = tokens.new_api_key()
    now = datetime.now(UTC)
    row = ApiKey(
        user_id=user_id,
        name=label,
        prefix=tokens.api_key_prefix(secret),
        digest=tokens.digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    db.add(row)
    db.flush()
    _audit(db, events.API_KEY_CREATED, actor, row)
    return IssuedKey(row=row, secret=secret)


def _audit(db: Session, action: str, actor: Principal, row: ApiKey) -> None:
    expires = row.expires_at.isoformat() if row.expires_at else None
    facts = {"api_key_id": row.id, "owner_user_id": row.user_id, "name": row.name, "expires_at": expires}
    events.record(db, action, actor, subject=row.prefix, detail=facts)


def list_keys(db: Session, user_id: int) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id.desc())))


def revoke_key(db: Session, actor: Principal, user_id: int, key_id: int) -> ApiKey:
    row = db.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
    if row is None:
        raise NotFound("指定された API キーが見つかりません。")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        _audit(db, events.API_KEY_REVOKED, actor, row)
    db.flush()
    return row


def find_key(db: Session, secret: str) -> ApiKey | None:
    """The key row for a presented secret, whatever its state."""
    return db.scalar(select(ApiKey).where(ApiKey.digest == tokens.digest(secret)))


def find_usable_key(db: Session, secret: str) -> ApiKey | None:
    """The key row for a presented secret, if it exists, is not revoked and has not expired."""
    row = find_key(db, secret)
    return row if row is not None and key_state(row) == "active" else None


def key_state(row: ApiKey) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        return "expired"
    return "active"
