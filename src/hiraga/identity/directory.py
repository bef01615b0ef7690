"""Organisations, teams, users and memberships. Framework-free; every read is narrowed by an
AccessScope and every write is checked against it."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput, NotFound
from hiraga.identity.passwords import check_policy, hash_password
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import Membership, Organisation, Team, TeamRole, User

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_email(email: str) -> str:
    value = unicodedata.normalize("NFKC", email).strip().lower()
    if not EMAIL_PATTERN.match(value) or len(value) > 320:
        raise InvalidInput("メールアドレスの形式が正しくありません。", detail={"field": "email"})
    return value


def clean_name(name: str, field: str) -> str:
    value = check_characters(unicodedata.normalize("NFKC", name).strip(), field)
    if not value or len(value) > 200:
        raise InvalidInput("名前は 1〜200 文字で入力してください。", detail={"field": field})
    return value


# -- organisations --------------------------------------------------------------------------------
def create_organisation(db: Session, scope: AccessScope, name: str) -> Organisation:
    scope.require_system_admin()
    org = Organisation(name=clean_name(name, "name"))
    _insert(db, org, "同じ名前の組織が既にあります。")
    return org


def _visible_organisations(scope: AccessScope) -> Select[Organisation]:
    """Admins and auditors see every organisation; others those of the teams they belong to."""
    stmt = select(Organisation).order_by(Organisation.id)
    p = scope.principal
    if not (p.is_system_admin or p.is_auditor):
        visible = select(Team.organisation_id).where(scope.team_filter(Team.id))
        stmt = stmt.where(Organisation.id.in_(visible))
    return stmt


def list_organisations(db: Session, scope: AccessScope) -> list[Organisation]:
    return list(db.scalars(_visible_organisations(scope)))


def get_organisation(db: Session, scope: AccessScope, organisation_id: int) -> Organisation:
    org = db.scalar(_visible_organisations(scope).where(Organisation.id == organisation_id))
    if org is None:
        raise NotFound("指定された組織が見つかりません。")
    return org


def find_organisation(db: Session, name_or_id: str | int) -> Organisation:
    stmt = select(Organisation).where(
        Organisation.id == int(name_or_id) if str(name_or_id).isdigit() else Organisation.name == name_or_id
    )
    org = db.scalar(stmt)
    if org is None:
        raise NotFound(f"組織「{name_or_id}」が見つかりません。")
    return org


# -- teams -----------------------------------------------------------------------------------------
def create_team(db: Session, scope: AccessScope, organisation_id: int, name: str) -> Team:
    scope.require_system_admin()
    if db.get(Organisation, organisation_id) is None:
        raise NotFound("指定された組織が見つかりません。", detail={"field": "organisation_id"})
    team = Team(organisation_id=organisation_id, name=clean_name(name, "name"))
    _insert(db, team, "この組織には同じ名前のチームが既にあります。")
    return team


def list_teams(db: Session, scope: AccessScope) -> list[Team]:
    return list(db.scalars(select(Team).where(scope.team_filter(Team.id)).order_by(Team.id)))


def get_team(db: Session, scope: AccessScope, team_id: int) -> Team:
    team = db.scalar(select(Team).where(Team.id == team_id, scope.team_filter(Team.id)))
    if team is None:
        raise NotFound("指定されたチームが見つかりません。")
    return team


def find_team(db: Session, name: str, organisation: str | None = None) -> Team:
    stmt = select(Team).join(Organisation).where(Team.name == name)
    if organisation is not None:
        stmt = stmt.where(Organisation.name == organisation)
    teams = list(db.scalars(stmt))
    if not teams:
        raise NotFound(f"チーム「{name}」が見つかりません。")
    if len(teams) > 1:
        raise InvalidInput(f"チーム「{name}」が複数の組織にあります。組織を指定してください。")
    return teams[0]


# -- users -----------------------------------------------------------------------------------------
def create_user(
    db: Session,
    scope: AccessScope,
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    is_system_admin: bool = False,
    is_auditor: bool = False,
    password_min_length: int = 12,
    team_id: int | None = None,
    team_role: TeamRole = TeamRole.MEMBER,
) -> User:
    """System admins create any user; team admins create users in a team they administer
    (``team_id``), since a user outside their teams would be invisible to them."""
    if is_system_admin or is_auditor:
        scope.require_system_admin()
    else:
        scope.require_admin_of_any_team()
    if team_id is not None:
        scope.require_team_admin(team_id)
        if db.get(Team, team_id) is None:
            raise NotFound("指定されたチームが見つかりません。", detail={"field": "team_id"})
    elif not scope.principal.is_system_admin:
        raise InvalidInput(
            "チーム管理者がユーザーを作成するときは、所属チームを指定してください。", detail={"field": "team_id"}
        )
    address = normalise_email(email)
    if password is not None:
        check_policy(password, min_length=password_min_length, email=address)
    user = User(
        email=address,
        display_name=check_characters(display_name.strip()[:200], "display_name"),
        password_hash=hash_password(password) if password is not None else None,
        is_system_admin=is_system_admin,
        is_auditor=is_auditor,
        password_changed_at=datetime.now(UTC) if password is not None else None,
    )
    _insert(db, user, "このメールアドレスは既に登録されています。")
    if team_id is not None:
        db.add(Membership(user_id=user.id, team_id=team_id, role=team_role))
        db.flush()
    facts: dict[str, object] = {"user_id": user.id, "is_system_admin": is_system_admin, "is_auditor": is_auditor}
    if team_id is not None:
        facts |= {"team_role": str(team_role)}
    events.record(db, events.USER_CREATED, scope.principal, subject=address, team_id=team_id, detail=facts)
    return user


def _visible_users(scope: AccessScope) -> Select[User]:
    """Admins and auditors see everyone; team admins see the members of the teams they administer."""
    stmt = select(User).order_by(User.id)
    p = scope.principal
    if not (p.is_system_admin or p.is_auditor):
        members = select(Membership.user_id).where(scope.admin_team_filter(Membership.team_id))
        stmt = stmt.where((User.id.in_(members)) | (User.id == p.user_id))
    return stmt


def list_users(db: Session, scope: AccessScope) -> list[User]:
    return list(db.scalars(_visible_users(scope)))


def get_user(db: Session, scope: AccessScope, user_id: int) -> User:
    user = db.scalar(_visible_users(scope).where(User.id == user_id))
    if user is None:
        raise NotFound("指定されたユーザーが見つかりません。")
    return user


def find_user_by_email(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"ユーザー {email} が見つかりません。")
    return user


def set_platform_roles(
    db: Session,
    scope: AccessScope,
    user_id: int,
    *,
    is_system_admin: bool | None = None,
    is_auditor: bool | None = None,
    is_active: bool | None = None,
) -> User:
    """Change platform roles and the active flag; ``None`` leaves a value as it is."""
    scope.require_system_admin()
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("指定されたユーザーが見つかりません。")
    admin = user.is_system_admin if is_system_admin is None else is_system_admin
    active = user.is_active if is_active is None else is_active
    if user.id == scope.principal.user_id and not (admin and active):
        raise InvalidInput("自分自身のシステム管理者権限を外したり、無効化したりすることはできません。")
    before = _platform_roles(user)
    user.is_system_admin, user.is_active = admin, active
    user.is_auditor = user.is_auditor if is_auditor is None else is_auditor
    db.flush()
    changed = {k: {"from": v, "to": after} for k, v in before.items() if (after := _platform_roles(user)[k]) != v}
    if changed:
        facts = {"user_id": user.id, **changed}
        events.record(db, events.USER_ROLES_CHANGED, scope.principal, subject=user.email, detail=facts)
    return user


def _platform_roles(user: User) -> dict[str, bool]:
    return {"is_system_admin": user.is_system_admin, "is_auditor": user.is_auditor, "is_active": user.is_active}


def count_users(db: Session) -> int:
    return int(db.scalar(select(func.count(User.id))) or 0)


# -- memberships -----------------------------------------------------------------------------------
def set_membership(db: Session, scope: AccessScope, team_id: int, user_id: int, role: TeamRole) -> Membership:
    scope.require_team_admin(team_id)
    if db.scalar(_visible_users(scope).where(User.id == user_id)) is None:  # no pulling in strangers
        raise NotFound("指定されたユーザーが見つかりません。", detail={"field": "user_id"})
    membership = db.get(Membership, (user_id, team_id))
    previous = None if membership is None else str(membership.role)
    if membership is None:
        membership = Membership(user_id=user_id, team_id=team_id, role=role)
        db.add(membership)
    else:
        membership.role = role
    db.flush()
    if previous != str(role):
        facts = {"user_id": user_id, "role": str(role), "previous_role": previous}
        events.record(db, events.TEAM_ROLE_SET, scope.principal, team_id=team_id, detail=facts)
    return membership


def remove_membership(db: Session, scope: AccessScope, team_id: int, user_id: int) -> None:
    scope.require_team_admin(team_id)
    membership = db.get(Membership, (user_id, team_id))
    if membership is None:
        raise NotFound("このユーザーはチームのメンバーではありません。")
    facts = {"user_id": user_id, "previous_role": str(membership.role)}
    db.delete(membership)
    db.flush()
    events.record(db, events.TEAM_MEMBER_REMOVED, scope.principal, team_id=team_id, detail=facts)


def memberships_of(db: Session, user_id: int) -> list[Membership]:
    """One user's own memberships (for "who am I"), with their teams and organisations loaded."""
    stmt = (
        select(Membership)
        .where(Membership.user_id == user_id)
        .options(joinedload(Membership.team).joinedload(Team.organisation))
        .order_by(Membership.team_id)
    )
    return list(db.scalars(stmt))


def list_members(db: Session, scope: AccessScope, team_id: int) -> list[Membership]:
    get_team(db, scope, team_id)
    return list(db.scalars(select(Membership).where(Membership.team_id == team_id).order_by(Membership.user_id)))


def _insert(db: Session, row: object, conflict_message: str) -> None:
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError as exc:
        raise Conflict(conflict_message) from exc
