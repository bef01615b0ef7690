"""Password login can be switched off for everyone but the break-glass system admins
(``HIRAGA_PASSWORD_LOGIN=break_glass`` + ``HIRAGA_BREAK_GLASS_ADMINS``); API keys are not affected.
A refused attempt is a ``login_refused`` audit record with reason ``password_login_disabled``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import Forbidden, InvalidInput
from hiraga.identity.directory import normalise_email
from hiraga.identity.login import audit_refusal
from hiraga.settings import Settings
from hiraga.store.tables import User


class PasswordLoginDisabled(Forbidden):
    code = "password_login_disabled"
    message = "パスワードでのログインは無効になっています。シングルサインオンのボタンからサインインしてください。"


def password_login_open(settings: Settings) -> bool:
    return settings.password_login == "all"


def is_break_glass(settings: Settings, email: str) -> bool:
    return email.strip().lower() in settings.break_glass_admins


def check_password_login(db: Session, settings: Settings, email: str, client_ip: str) -> None:
    """Raise (after auditing) unless password login is open, or ``email`` is a break-glass system admin."""
    if password_login_open(settings):
        return
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = email.strip().lower()[:320]
    user = db.scalar(select(User).where(User.email == address))
    if user is not None and user.is_system_admin and is_break_glass(settings, address):
        return
    refusal = PasswordLoginDisabled()
    audit_refusal(db, address, user, client_ip, refusal, "password_login_disabled")  # committed now
    raise refusal
