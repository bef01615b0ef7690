"""Step 1 of the spine: who is calling? A session cookie or an ``Authorization: Bearer`` API key
becomes a Principal; anything else is anonymous. Framework-free: callers pass the raw values."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import NotAuthenticated
from hiraga.identity.api_keys import find_key, key_state
from hiraga.identity.principal import Principal
from hiraga.identity.tokens import API_KEY_PREFIX
from hiraga.identity.web_sessions import find_session
from hiraga.store.tables import ApiKey, Membership, User

log = logging.getLogger(__name__)

LAST_USED_GRANULARITY = timedelta(minutes=5)


class InvalidApiKey(NotAuthenticated):
    code = "invalid_api_key"
    message = "API キーが無効です（存在しない・失効済み・期限切れのいずれか）。"


def principal_for_user(db: Session, user: User, **extra: object) -> Principal:
    roles = {m.team_id: m.role for m in db.scalars(select(Membership).where(Membership.user_id == user.id))}
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name or user.email,
        is_system_admin=user.is_system_admin,
        is_auditor=user.is_auditor,
        team_roles=roles,
        locale=user.locale,
        **extra,  # type: ignore[arg-type]
    )


def from_session_cookie(db: Session, token: str | None, client_address: str | None = None) -> Principal | None:
    if not token:
        return None
    row = find_session(db, token)
    if row is None or not row.user.is_active:
        return None
    return principal_for_user(db, row.user, via="session", client_address=client_address)


def from_bearer(db: Session, authorization: str | None, client_address: str | None = None) -> Principal | None:
    """None when no bearer credential was presented; raises when one was and it is not valid
    (after writing the refusal to the audit log)."""
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated("Authorization ヘッダーは「Bearer <API キー>」の形式で指定してください。")
    secret = secret.strip()
    key = find_key(db, secret) if secret.startswith(API_KEY_PREFIX) else None
    if key is None or key_state(key) != "active" or not key.user.is_active:
        _audit_refused_key(db, key, client_address)
        raise InvalidApiKey()
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
        engine, key_id = db.get_bind().engine, key.id
        _after_request_commit(db, lambda: _touch_key(engine, key_id, now))
    return principal_for_user(db, key.user, via="api_key", api_key_id=key.id, client_address=client_address)


def _audit_refused_key(db: Session, known: ApiKey | None, client_address: str | None) -> None:
    """Who the key belonged to (if it exists: revoked, expired, owner deactivated) and its public
    prefix — never the secret."""
    state = key_state(known) if known is not None else "unknown"
    reason = "inactive_user" if state == "active" else state
    row = events.event_row(
        events.API_KEY_REFUSED,
        None,
        subject=known.prefix if known else None,
        detail={"reason": reason},
        outcome="refused",
        error_code=InvalidApiKey.code,
        client_address=client_address,
        source="api_key",
    )
    if known is not None:
        row.update(actor_user_id=known.user_id, actor_email=known.user.email, api_key_id=known.id, via="api_key")
    events.record_refusal(db, row)


def _after_request_commit(db: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once, after the session's outermost transaction commits. ``after_commit`` also
    fires when a SAVEPOINT is released; the request's transaction (and on SQLite its write lock) is
    still open then, so a write on another connection would wait out the busy timeout and fail."""
    done = False

    def run(session: Session) -> None:
        nonlocal done
        if done or session.in_nested_transaction():
            return
        done = True
        action()

    event.listen(db, "after_commit", run)


def _touch_key(engine: Engine, key_id: int, now: datetime) -> None:
    """Record when a key was last used, after the request's own transaction committed and in a short
    transaction of its own: written inside the request's session, it would turn SQLite's read snapshot
    into a write that can be refused, and this bookkeeping must never fail a call."""
    try:
        with engine.connect() as connection:
            connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
            connection.commit()
    except OperationalError:
        log.warning("could not record last use of API key %s", key_id)


def authenticate(
    db: Session, *, authorization: str | None, session_token: str | None, client_address: str | None = None
) -> Principal | None:
    """A bearer key wins over a cookie; a bad bearer key is an error, never a fallback."""
    return from_bearer(db, authorization, client_address) or from_session_cookie(db, session_token, client_address)
