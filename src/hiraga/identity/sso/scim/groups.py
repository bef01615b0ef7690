"""SCIM Groups: the IdP's groups and who is in them. A group's name and external id are what the global
mapping rules on the ``groups`` claim match, so a membership change re-syncs the teams and roles of the
users it touches at once (``resync``), ahead of their next sign-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scim2_models import GroupMember, InvalidValueException, NotFoundException, Resource, UniquenessException
from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.identity.principal import Principal
from hiraga.identity.sso import mapping
from hiraga.identity.sso.scim.users import check_external_id, meta, row_id, stored_json
from hiraga.store.tables import ScimGroup, ScimGroupMember, ScimUser, User

GROUPS_CLAIM = "groups"


def load(db: Session, model: type[Resource[Any]], row: ScimGroup) -> Resource[Any]:
    """The group as stored; its members are the table's (the truth), with the display names the IdP sent."""
    data = json.loads(row.resource)
    sent = {str(m.get("value")): m.get("display") for m in data.pop("members", None) or [] if isinstance(m, dict)}
    resource = model.model_validate(data, scim_ctx=None)
    resource.id = str(row.id)
    resource.meta = meta("Group", row.created_at, row.updated_at, row.version)
    members = db.execute(
        select(ScimUser.user_id, User.display_name)
        .join(ScimGroupMember, ScimGroupMember.user_id == ScimUser.user_id)
        .join(User, User.id == ScimUser.user_id)
        .where(ScimGroupMember.group_id == row.id)
        .order_by(ScimUser.user_id)
    ).all()
    resource.members = [  # type: ignore[attr-defined]
        GroupMember(value=str(uid), ref=f"Users/{uid}", type="User", display=sent.get(str(uid)) or name or None)
        for uid, name in members
    ] or None
    return resource


def get_row(db: Session, resource_id: str) -> ScimGroup:
    row = db.get(ScimGroup, row_id(resource_id))
    if row is None:
        raise NotFoundException(detail=f"Group {resource_id[:40]} not found")
    return row


def all_rows(db: Session, display_name: str | None = None, external_id: str | None = None) -> list[ScimGroup]:
    stmt = select(ScimGroup).order_by(ScimGroup.id)
    if display_name is not None:
        stmt = stmt.where(ScimGroup.display_name == display_name)
    if external_id is not None:
        stmt = stmt.where(ScimGroup.external_id == external_id)
    return list(db.scalars(stmt))


def _member_ids(db: Session, resource: Resource[Any]) -> set[int]:
    ids: set[int] = set()
    for member in getattr(resource, "members", None) or []:
        value = str(member.value or "")
        if member.type not in (None, "User") or not value.isdigit() or db.get(ScimUser, int(value)) is None:
            raise InvalidValueException(detail=f"Member {value[:40]} is not a provisioned user.")
        ids.add(int(value))
    return ids


def _check_name(db: Session, name: str, own_id: int | None, resource: Resource[Any]) -> None:
    check_external_id(resource)
    if not name or len(name) > 255:
        raise InvalidValueException(detail="displayName must be 1 to 255 characters.")
    taken = db.scalar(select(ScimGroup.id).where(ScimGroup.display_name == name))
    if taken is not None and taken != own_id:
        raise UniquenessException(detail="displayName is already taken.")


def _set_members(db: Session, group_id: int, wanted: set[int]) -> tuple[set[int], set[int]]:
    current = set(db.scalars(select(ScimGroupMember.user_id).where(ScimGroupMember.group_id == group_id)))
    for user_id in wanted - current:
        db.add(ScimGroupMember(group_id=group_id, user_id=user_id))
    if current - wanted:
        db.query(ScimGroupMember).filter(
            ScimGroupMember.group_id == group_id, ScimGroupMember.user_id.in_(current - wanted)
        ).delete()
    db.flush()
    return wanted - current, current - wanted


def create(db: Session, model: type[Resource[Any]], resource: Resource[Any], actor: Principal) -> Resource[Any]:
    name = str(getattr(resource, "display_name", "") or "")
    _check_name(db, name, None, resource)
    members = _member_ids(db, resource)
    now = datetime.now(UTC)
    row = ScimGroup(
        display_name=name, external_id=resource.external_id, resource=_stored(resource), created_at=now, updated_at=now
    )
    db.add(row)
    db.flush()
    _set_members(db, row.id, members)
    facts = {"group_id": row.id, "external_id": row.external_id, "members_added": sorted(members)}
    events.record(db, events.SCIM_GROUP_CREATED, actor, subject=name, detail=facts)
    resync(db, members, actor)
    return load(db, model, row)


def _stored(resource: Resource[Any]) -> str:
    """The group as kept; of its members only value and display (the table holds who is a member)."""
    data = json.loads(stored_json(resource))
    data["members"] = [{"value": m.get("value"), "display": m.get("display")} for m in data.get("members") or []]
    return json.dumps(data, ensure_ascii=False)


def replace(db: Session, model: type[Resource[Any]], resource: Resource[Any], actor: Principal) -> Resource[Any]:
    row = get_row(db, str(resource.id or ""))
    name = str(getattr(resource, "display_name", "") or "")
    _check_name(db, name, row.id, resource)
    members = _member_ids(db, resource)
    before = (row.display_name, row.external_id)
    row.display_name, row.external_id, row.resource = name, resource.external_id, _stored(resource)
    row.version += 1
    row.updated_at = datetime.now(UTC)
    added, removed = _set_members(db, row.id, members)
    renamed = before != (row.display_name, row.external_id)
    if added or removed or renamed:
        facts: dict[str, Any] = {"group_id": row.id, "members_added": sorted(added), "members_removed": sorted(removed)}
        if renamed:
            facts["renamed"] = {"from": before[0], "to": name, "external_id": row.external_id}
        events.record(db, events.SCIM_GROUP_UPDATED, actor, subject=name, detail=facts)
    current = set(db.scalars(select(ScimGroupMember.user_id).where(ScimGroupMember.group_id == row.id)))
    resync(db, (current | removed) if renamed else (added | removed), actor)
    return load(db, model, row)


def remove(db: Session, resource_id: str, actor: Principal) -> None:
    row = get_row(db, resource_id)
    members = set(db.scalars(select(ScimGroupMember.user_id).where(ScimGroupMember.group_id == row.id)))
    facts = {"group_id": row.id, "external_id": row.external_id, "members_removed": sorted(members)}
    db.delete(row)
    db.flush()
    events.record(db, events.SCIM_GROUP_DELETED, actor, subject=row.display_name, detail=facts)
    resync(db, members, actor)


def resync(db: Session, user_ids: set[int], actor: Principal) -> None:
    """Apply the global mapping rules to each user, with their SCIM groups as the ``groups`` claim."""
    rules = mapping.rules_for(db, None)
    if not rules or not user_ids:
        return
    for user_id in sorted(user_ids):
        user = db.get(User, user_id)
        if user is None:
            continue
        groups = db.execute(
            select(ScimGroup.display_name, ScimGroup.external_id)
            .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
            .where(ScimGroupMember.user_id == user_id)
        ).all()
        claims = {"email": user.email, GROUPS_CLAIM: [v for row in groups for v in row if v]}
        mapping.apply(db, user, mapping.evaluate(rules, claims), actor, source="scim")
