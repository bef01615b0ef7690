"""Adoption: members active in the last 30 days ÷ members, per team and per organisation — the
number that shows organisational use rather than a few enthusiasts.

A member is an active user account with a membership; active means at least one usage record
(any model call or app run, in any team) in the 30 days before ``now``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hiraga.dashboards.period import ACTIVE_DAYS
from hiraga.dashboards.usage_stats import names_of, require_viewer
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import Membership, Organisation, Team, UsageRecord, User


@dataclass(frozen=True, slots=True)
class Adoption:
    key: int
    label: str
    members: int
    active: int

    @property
    def rate(self) -> Decimal:
        """Active ÷ members as a percentage, one decimal (0 for a team without members)."""
        if not self.members:
            return Decimal("0.0")
        return (Decimal(self.active * 100) / self.members).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _counts(session: Session, group: Any, where: list[Any], active_since: datetime) -> dict[int, tuple[int, int]]:
    base = (
        select(group, func.count(func.distinct(Membership.user_id)))
        .join(User, User.id == Membership.user_id)
        .join(Team, Team.id == Membership.team_id)
        .where(User.is_active.is_(True), *where)
        .group_by(group)
    )
    recent = select(UsageRecord.user_id).where(UsageRecord.created_at >= active_since).distinct()
    members = {int(k): int(n) for k, n in session.execute(base)}
    active = {int(k): int(n) for k, n in session.execute(base.where(Membership.user_id.in_(recent)))}
    return {k: (n, active.get(k, 0)) for k, n in members.items()}


def team_adoption(session: Session, scope: AccessScope, now: datetime) -> list[Adoption]:
    require_viewer(scope)
    p = scope.principal
    where = [] if p.is_auditor or p.is_system_admin else [scope.admin_team_filter(Team.id)]
    counts = _counts(session, Team.id, where, now - timedelta(days=ACTIVE_DAYS))
    names = names_of(session, Team.id, Team.name, list(counts))
    return sorted((Adoption(k, names[k], n, a) for k, (n, a) in counts.items()), key=lambda r: (-r.rate, r.label))


def organisation_adoption(session: Session, scope: AccessScope, now: datetime) -> list[Adoption]:
    """Per organisation (auditors and system administrators; a team admin sees only teams)."""
    require_viewer(scope)
    p = scope.principal
    if not (p.is_auditor or p.is_system_admin):
        return []
    counts = _counts(session, Team.organisation_id, [], now - timedelta(days=ACTIVE_DAYS))
    names = names_of(session, Organisation.id, Organisation.name, list(counts))
    return sorted((Adoption(k, names[k], n, a) for k, (n, a) in counts.items()), key=lambda r: r.label)
