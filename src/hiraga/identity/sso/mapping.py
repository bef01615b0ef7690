"""Mapping rules: claims (groups, e-mail domain, any claim, dotted paths such as ``realm_access.roles``)
→ team member, team admin, auditor, system admin. ``evaluate`` is pure; ``apply`` brings one user's
memberships and platform roles in line with the result.

What the rules manage: the teams some applicable rule names, and a platform role some applicable rule
grants. For those the identity provider is the source of truth (removed from the group → removed from the
team at the next sign-in or SCIM change); memberships in other teams are left to team admins."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.identity.principal import Principal
from hiraga.store.tables import Membership, SsoMappingRule, TeamRole, User

GRANTS = ("member", "admin", "auditor", "system_admin")
TEAM_GRANTS = frozenset({"member", "admin"})
EMAIL_DOMAIN = "email_domain"


@dataclass(frozen=True, slots=True)
class Grants:
    teams: Mapping[int, TeamRole] = field(default_factory=dict)
    is_auditor: bool = False
    is_system_admin: bool = False
    managed_teams: frozenset[int] = frozenset()
    manages_auditor: bool = False
    manages_system_admin: bool = False

    @property
    def grants_anything(self) -> bool:
        return bool(self.teams) or self.is_auditor or self.is_system_admin


def claim_values(claims: Mapping[str, Any], name: str) -> set[str]:
    """The values of one claim as strings; ``email_domain`` is the e-mail's domain (lower case)."""
    if name == EMAIL_DOMAIN:
        email = claims.get("email")
        return {email.rsplit("@", 1)[1].lower()} if isinstance(email, str) and "@" in email else set()
    value: Any = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, list | tuple | set):
        return {_as_text(v) for v in value if isinstance(v, str | int | bool)}
    return {_as_text(value)} if isinstance(value, str | int | bool) else set()


def _as_text(value: str | int | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _matches(rule: SsoMappingRule, claims: Mapping[str, Any]) -> bool:
    values = claim_values(claims, rule.claim)
    return (rule.value.lower() in values) if rule.claim == EMAIL_DOMAIN else rule.value in values


def evaluate(rules: Iterable[SsoMappingRule], claims: Mapping[str, Any]) -> Grants:
    teams: dict[int, TeamRole] = {}
    managed: set[int] = set()
    auditor = admin = manages_auditor = manages_admin = False
    for rule in rules:
        hit = _matches(rule, claims)
        if rule.grant in TEAM_GRANTS and rule.team_id is not None:
            managed.add(rule.team_id)
            if hit and (rule.grant == "admin" or rule.team_id not in teams):
                teams[rule.team_id] = TeamRole.ADMIN if rule.grant == "admin" else TeamRole.MEMBER
        elif rule.grant == "auditor":
            manages_auditor, auditor = True, auditor or hit
        elif rule.grant == "system_admin":
            manages_admin, admin = True, admin or hit
    return Grants(teams, auditor, admin, frozenset(managed), manages_auditor, manages_admin)


def rules_for(db: Session, provider_id: int | None) -> list[SsoMappingRule]:
    """The rules of one provider and the global ones (``provider_id`` None: the global ones only)."""
    stmt = select(SsoMappingRule).order_by(SsoMappingRule.id)
    if provider_id is None:
        stmt = stmt.where(SsoMappingRule.provider_id.is_(None))
    else:
        stmt = stmt.where((SsoMappingRule.provider_id == provider_id) | SsoMappingRule.provider_id.is_(None))
    return list(db.scalars(stmt))


def would_have_access(db: Session, user: User | None, grants: Grants) -> bool:
    """After ``apply``: would the user belong to any team or hold any platform role?"""
    if grants.grants_anything:
        return True
    if user is None:
        return False
    kept_teams = [m for m in _memberships(db, user.id) if m.team_id not in grants.managed_teams]
    auditor = user.is_auditor and not grants.manages_auditor
    admin = user.is_system_admin and not grants.manages_system_admin
    return bool(kept_teams) or auditor or admin


def _memberships(db: Session, user_id: int) -> list[Membership]:
    return list(db.scalars(select(Membership).where(Membership.user_id == user_id)))


def apply(db: Session, user: User, grants: Grants, actor: Principal, source: str) -> dict[str, Any]:
    """Bring the user's managed memberships and roles in line; one audit record when anything changed."""
    current = {m.team_id: m for m in _memberships(db, user.id)}
    added, removed, changed = [], [], []
    for team_id in sorted(grants.managed_teams):
        want, have = grants.teams.get(team_id), current.get(team_id)
        if want is None and have is not None:
            db.delete(have)
            removed.append(team_id)
        elif want is not None and have is None:
            db.add(Membership(user_id=user.id, team_id=team_id, role=want))
            added.append({"team_id": team_id, "role": str(want)})
        elif want is not None and have is not None and have.role != want:
            have.role = want
            changed.append({"team_id": team_id, "role": str(want)})
    roles: dict[str, bool] = {}
    if grants.manages_auditor and user.is_auditor != grants.is_auditor:
        user.is_auditor = roles["is_auditor"] = grants.is_auditor
    if grants.manages_system_admin and user.is_system_admin != grants.is_system_admin:
        user.is_system_admin = roles["is_system_admin"] = grants.is_system_admin
    db.flush()
    facts: dict[str, Any] = {"user_id": user.id, "source": source}
    facts |= {k: v for k, v in (("teams_added", added), ("teams_removed", removed), ("roles", changed)) if v}
    if roles:
        facts["platform_roles"] = roles
    if len(facts) > 2:
        events.record(db, events.SSO_MEMBERSHIPS_SYNCED, actor, subject=user.email, detail=facts)
    return facts
