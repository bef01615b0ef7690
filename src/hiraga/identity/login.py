"""Password login with throttling: repeated failures for an account or an address lock it out
for a while. Failures live in the database, so the throttle holds across processes. Every refusal
is also an audit record (``login_refused``): the failure table is wiped at the next good login,
the audit chain is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import HiragaError, NotAuthenticated, TooManyRequests
from hiraga.identity.directory import normalise_email
from hiraga.identity.passwords import hash_password, needs_rehash, verify_password
from hiraga.store.tables import LoginFailure, User


class LoginFailed(NotAuthenticated):
    code = "login_failed"
    message = "メールアドレスまたはパスワードが正しくありません。"


def authenticate_password(
    db: Session,
    email: str,
    password: str,
    client_ip: str,
    *,
    max_failures: int,
    window_minutes: int,
    lockout_minutes: int,
) -> User:
    try:
        address = normalise_email(email)
    except Exception:
        address = email.strip().lower()[:320]
    subjects = [f"email:{address}", f"ip:{client_ip}"]
    now = datetime.now(UTC)
    user = db.scalar(select(User).where(User.email == address))
    try:
        _refuse_if_locked(db, subjects, now, max_failures, window_minutes, lockout_minutes)
    except TooManyRequests as locked:
        audit_refusal(db, address, user, client_ip, locked, "locked")
        raise
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.is_active:
        db.add_all(LoginFailure(subject=s, failed_at=now) for s in subjects)
        reason = "unknown_account" if user is None else "wrong_password" if user.is_active else "inactive_account"
        audit_refusal(db, address, user, client_ip, LoginFailed(), reason)  # commits the failure with it
        raise LoginFailed()
    db.execute(delete(LoginFailure).where(LoginFailure.subject == subjects[0]))
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def audit_refusal(
    db: Session, address: str, user: User | None, client_ip: str, error: HiragaError, reason: str
) -> None:
    row = events.event_row(
        events.LOGIN_REFUSED,
        None,
        detail={"reason": reason},
        outcome="refused",
        error_code=error.code,
        client_address=client_ip,
        source="login",
    )
    row["actor_email"], row["actor_user_id"] = address, user.id if user else None
    events.record_refusal(db, row)


def _refuse_if_locked(
    db: Session, subjects: list[str], now: datetime, max_failures: int, window: int, lockout: int
) -> None:
    since = now - timedelta(minutes=max(window, lockout))
    for subject in subjects:
        limit = max_failures if subject.startswith("email:") else max_failures * 4
        count, latest = db.execute(
            select(func.count(LoginFailure.id), func.max(LoginFailure.failed_at)).where(
                LoginFailure.subject == subject, LoginFailure.failed_at >= since
            )
        ).one()
        if count >= limit and latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
            retry = int((latest + timedelta(minutes=lockout) - now).total_seconds())
            if retry > 0:
                raise TooManyRequests(
                    f"ログインの失敗が続いたため、約 {retry // 60 + 1} 分間ログインできません。",
                    code="login_locked",
                    retry_after=retry,
                )
