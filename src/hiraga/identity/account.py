"""A user's own account: the first system admin, password changes and resets. Framework-free."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput, NotFound
from hiraga.identity import directory
from hiraga.identity.passwords import WeakPassword, check_policy, hash_password, verify_password
from hiraga.identity.principal import Principal
from hiraga.identity.web_sessions import end_all_sessions
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import TeamRole, User

# Creates the first user before any user exists to hold that right (only behind a valid setup token).
SETUP_OPERATOR = Principal(user_id=0, email="setup@localhost", display_name="setup", is_system_admin=True)


def set_password(db: Session, user: User, password: str, *, min_length: int, field: str = "password") -> None:
    """Check the policy, store the new hash and end every session of the user."""
    try:
        check_policy(password, min_length=min_length, email=user.email)
    except WeakPassword as error:  # name the caller's form field
        raise WeakPassword(error.message, detail={"field": field}) from None
    user.password_hash = hash_password(password)
    user.password_changed_at = datetime.now(UTC)
    end_all_sessions(db, user.id)
    db.flush()


def change_password(db: Session, user_id: int, current: str, new: str, confirm: str, *, min_length: int) -> None:
    """The user's own change: the current password must match (the caller starts a fresh session)."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("指定されたユーザーが見つかりません。")
    if not verify_password(user.password_hash, current):
        raise InvalidInput(
            "現在のパスワードが正しくありません。", code="wrong_password", detail={"field": "current_password"}
        )
    _require_same(new, confirm, "new_password_confirm")
    set_password(db, user, new, min_length=min_length, field="new_password")


def create_first_admin(
    db: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    password_confirm: str,
    organisation: str,
    password_min_length: int,
    team: str = "",
) -> User:
    """The first system admin; with an organisation and a team name, also that team, with the
    admin as its team admin (so the knowledge-base and app pages have a team to work in)."""
    _require_same(password, password_confirm, "password_confirm")
    if team.strip() and not organisation.strip():
        raise InvalidInput(
            "チームを作るには組織名も入力してください。", code="organisation_required", detail={"field": "organisation"}
        )
    scope = AccessScope(SETUP_OPERATOR)
    user = directory.create_user(
        db,
        scope,
        email=email,
        password=password,
        display_name=display_name,
        is_system_admin=True,
        password_min_length=password_min_length,
    )
    if organisation.strip():
        org = directory.create_organisation(db, scope, organisation)
        if team.strip():
            first = directory.create_team(db, scope, org.id, team)
            directory.set_membership(db, scope, first.id, user.id, TeamRole.ADMIN)
    return user


def _require_same(password: str, confirm: str, field: str) -> None:
    if password != confirm:
        raise InvalidInput("確認用のパスワードが一致しません。", code="password_mismatch", detail={"field": field})
