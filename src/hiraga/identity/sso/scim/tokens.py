"""SCIM bearer tokens: shown once, stored as a SHA-256 digest, named and revocable; issuing and
revoking are audited. A token acts as the SCIM client, never as a user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import InvalidInput, NotFound
from hiraga.identity import tokens
from hiraga.identity.principal import Principal
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import ScimToken

TOKEN_PREFIX = "hs-"


@dataclass(frozen=True, slots=True)
class IssuedScimToken:
    row: ScimToken
    secret: str  # the only time the clear token exists


def issue(db: Session, scope: AccessScope, name: str) -> IssuedScimToken:
    scope.require_system_admin()
    label = check_characters(name.strip(), "name")
    if not label or len(label) > 100:
        raise InvalidInput("トークンの名前は 1〜100 文字で入力してください。", detail={"field": "name"})
    secret = TOKEN_PREFIX + tokens.new_token(32)
    row = ScimToken(name=label, prefix=secret[:11], digest=tokens.digest(secret), created_at=datetime.now(UTC))
    db.add(row)
    db.flush()
    facts = {"scim_token_id": row.id, "name": row.name}
    events.record(db, events.SCIM_TOKEN_CREATED, scope.principal, subject=row.prefix, detail=facts)
    return IssuedScimToken(row, secret)


def revoke(db: Session, scope: AccessScope, token_id: int) -> ScimToken:
    scope.require_system_admin()
    row = db.get(ScimToken, token_id)
    if row is None:
        raise NotFound("指定された SCIM トークンが見つかりません。")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        db.flush()
        facts = {"scim_token_id": row.id, "name": row.name}
        events.record(db, events.SCIM_TOKEN_REVOKED, scope.principal, subject=row.prefix, detail=facts)
    return row


def list_tokens(db: Session) -> list[ScimToken]:
    return list(db.scalars(select(ScimToken).order_by(ScimToken.id)))


def find_active(db: Session, secret: str) -> ScimToken | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = db.scalar(select(ScimToken).where(ScimToken.digest == tokens.digest(secret)))
    return row if row is not None and row.revoked_at is None else None


def actor_for(row: ScimToken, client_address: str | None) -> Principal:
    """Who the audit records name for a SCIM change: the token (by name), not a person."""
    return Principal(
        user_id=0,
        email=f"scim:{row.name}",
        display_name=f"SCIM ({row.name})",
        is_system_admin=True,
        via="scim",
        client_address=client_address,
    )
