"""SCIM Users over hiraga's users. The resource the IdP sent is kept as JSON (without a password: hiraga
never takes one by SCIM) beside the user; the user's e-mail, display name and active flag follow it.

Deactivation (``active: false``) and deletion end the user's sessions and revoke their API keys at once.
A deleted user is deactivated and unlinked, not erased: their conversations and audit trail stay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scim2_models import (
    GroupMembership,
    InvalidValueException,
    Meta,
    NotFoundException,
    Resource,
    UniquenessException,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import HiragaError, InvalidInput
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.identity.web_sessions import end_all_sessions
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import ApiKey, Membership, ScimGroup, ScimGroupMember, ScimUser, User

SERVER_SET = ("id", "meta", "groups", "password")


def stored_json(resource: Resource[Any]) -> str:
    """The resource as kept: what the client sent, less what the server sets and the password."""
    data = resource.model_dump(scim_ctx=None, mode="json", by_alias=True, exclude_none=True)
    return json.dumps({k: v for k, v in data.items() if k not in SERVER_SET}, ensure_ascii=False)


def meta(resource_type: str, created: datetime, updated: datetime, version: int) -> Meta:
    return Meta(resource_type=resource_type, created=created, last_modified=updated, version=f'W/"{version}"')


def row_id(resource_id: str) -> int:
    if not resource_id.isdigit() or len(resource_id) > 18:
        raise NotFoundException(detail=f"Resource {resource_id[:40]} not found")
    return int(resource_id)


def load(db: Session, model: type[Resource[Any]], row: ScimUser) -> Resource[Any]:
    resource = model.model_validate(json.loads(row.resource), scim_ctx=None)
    resource.id = str(row.user_id)
    resource.meta = meta("User", row.created_at, row.updated_at, row.version)
    groups = db.execute(
        select(ScimGroup.id, ScimGroup.display_name)
        .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
        .where(ScimGroupMember.user_id == row.user_id)
        .order_by(ScimGroup.id)
    ).all()
    resource.groups = [GroupMembership(value=str(gid), display=name, type="direct") for gid, name in groups] or None  # type: ignore[attr-defined]
    return resource


def get_row(db: Session, resource_id: str) -> ScimUser:
    row = db.get(ScimUser, row_id(resource_id))
    if row is None:
        raise NotFoundException(detail=f"User {resource_id[:40]} not found")
    return row


def all_rows(db: Session, user_name: str | None = None, external_id: str | None = None) -> list[ScimUser]:
    stmt = select(ScimUser).order_by(ScimUser.user_id)
    if user_name is not None:
        stmt = stmt.where(ScimUser.user_name == user_name)
    if external_id is not None:
        stmt = stmt.where(ScimUser.external_id == external_id)
    return list(db.scalars(stmt))


# -- what the resource says about the user ---------------------------------------------------------
def _email(resource: Resource[Any]) -> str:
    emails = sorted(getattr(resource, "emails", None) or [], key=lambda e: not e.primary)
    for candidate in [*(str(e.value) for e in emails if e.value), str(getattr(resource, "user_name", ""))]:
        try:
            return directory.normalise_email(candidate)
        except InvalidInput:
            continue
    raise InvalidValueException(detail="A user needs an e-mail address (emails or an e-mail-shaped userName).")


def _display_name(resource: Resource[Any]) -> str:
    name = getattr(resource, "name", None)
    given = " ".join(p for p in (getattr(name, "family_name", None), getattr(name, "given_name", None)) if p)
    for candidate in (getattr(resource, "display_name", None), getattr(name, "formatted", None), given):
        if candidate:
            return str(candidate)[:200]
    return str(getattr(resource, "user_name", ""))[:200]


def _active(resource: Resource[Any]) -> bool:
    return getattr(resource, "active", None) is not False


def check_external_id(resource: Resource[Any]) -> None:
    if resource.external_id is not None and len(resource.external_id) > 255:
        raise InvalidValueException(detail="externalId must be at most 255 characters.")


def _check_user_name(db: Session, user_name: str, own_id: int | None, resource: Resource[Any]) -> None:
    check_external_id(resource)
    if not user_name or len(user_name) > 320:
        raise InvalidValueException(detail="userName must be 1 to 320 characters.")
    taken = db.scalar(select(ScimUser.user_id).where(ScimUser.user_name == user_name))
    if taken is not None and taken != own_id:
        raise UniquenessException(detail="userName is already taken.")


def _check_email(db: Session, email: str, own_id: int | None, break_glass: list[str]) -> User | None:
    """The existing hiraga user with this address (adopted by a create), if any."""
    user = db.scalar(select(User).where(User.email == email))
    if user is None or user.id == own_id:
        return user
    linked = db.get(ScimUser, user.id) is not None
    if own_id is not None or linked or email in break_glass:
        raise UniquenessException(detail="The e-mail address belongs to another user.")
    return user


# -- writes ----------------------------------------------------------------------------------------
def create(
    db: Session, model: type[Resource[Any]], resource: Resource[Any], actor: Principal, break_glass: list[str]
) -> Resource[Any]:
    user_name = str(getattr(resource, "user_name", "") or "")
    _check_user_name(db, user_name, None, resource)
    email = _email(resource)
    user = _check_email(db, email, None, break_glass)
    adopted = user is not None
    if user is None:
        try:
            user = directory.create_user(
                db, AccessScope(actor), email=email, password=None, display_name=_display_name(resource)
            )
        except HiragaError as error:
            raise InvalidValueException(detail=error.message) from error
    now = datetime.now(UTC)
    row = ScimUser(
        user_id=user.id,
        user_name=user_name,
        external_id=resource.external_id,
        resource=stored_json(resource),
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    user.display_name = _display_name(resource)
    db.flush()
    facts = {"user_id": user.id, "user_name": user_name, "external_id": resource.external_id, "adopted": adopted}
    events.record(db, events.SCIM_USER_CREATED, actor, subject=email, detail=facts)
    if not _active(resource):
        deactivate(db, user, actor, "scim_create_inactive")
    return load(db, model, row)


def replace(
    db: Session, model: type[Resource[Any]], resource: Resource[Any], actor: Principal, break_glass: list[str]
) -> Resource[Any]:
    row = get_row(db, str(resource.id or ""))
    user_name = str(getattr(resource, "user_name", "") or "")
    _check_user_name(db, user_name, row.user_id, resource)
    email = _email(resource)
    _check_email(db, email, row.user_id, break_glass)
    user = row.user
    before = {"email": user.email, "display_name": user.display_name, "user_name": row.user_name}
    user.email, user.display_name = email, _display_name(resource)
    row.user_name, row.external_id, row.resource = user_name, resource.external_id, stored_json(resource)
    row.version += 1
    row.updated_at = datetime.now(UTC)
    db.flush()
    after = {"email": user.email, "display_name": user.display_name, "user_name": row.user_name}
    changed: dict[str, dict[str, object]] = {
        k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v
    }
    was_active = user.is_active
    if was_active and not _active(resource):
        deactivate(db, user, actor, "scim_active_false")
    elif not was_active and _active(resource):
        user.is_active = True
        changed["is_active"] = {"from": False, "to": True}
    if changed:
        events.record(db, events.SCIM_USER_UPDATED, actor, subject=user.email, detail={"user_id": user.id, **changed})
    return load(db, model, row)


def remove(db: Session, resource_id: str, actor: Principal) -> None:
    row = get_row(db, resource_id)
    user = row.user
    db.query(ScimGroupMember).filter(ScimGroupMember.user_id == user.id).delete()
    db.query(Membership).filter(Membership.user_id == user.id).delete()
    db.delete(row)
    deactivate(db, user, actor, "scim_delete")
    facts = {"user_id": user.id, "user_name": row.user_name, "external_id": row.external_id}
    events.record(db, events.SCIM_USER_DELETED, actor, subject=user.email, detail=facts)


def deactivate(db: Session, user: User, actor: Principal, reason: str) -> None:
    """Inactive now: every session ends and every API key is revoked, in this transaction."""
    user.is_active = False
    end_all_sessions(db, user.id)
    now = datetime.now(UTC)
    keys = list(db.scalars(select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))))
    for key in keys:
        key.revoked_at = now
    revoked = len(keys)
    db.flush()
    facts = {"user_id": user.id, "reason": reason, "api_keys_revoked": revoked}
    events.record(db, events.SCIM_USER_DEACTIVATED, actor, subject=user.email, detail=facts)
