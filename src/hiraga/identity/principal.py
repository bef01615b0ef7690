"""Who is calling: the result of authentication, handed down the spine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from hiraga.store.tables import TeamRole


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    email: str
    display_name: str
    is_system_admin: bool = False
    is_auditor: bool = False
    team_roles: Mapping[int, TeamRole] = field(default_factory=dict)
    via: Literal["session", "api_key", "cli", "scim", "sso"] = "session"
    api_key_id: int | None = None
    locale: str | None = None
    client_address: str | None = None  # where this request came from (hiraga.net.client_address)

    @property
    def team_ids(self) -> frozenset[int]:
        return frozenset(self.team_roles)

    @property
    def admin_team_ids(self) -> frozenset[int]:
        return frozenset(t for t, role in self.team_roles.items() if role is TeamRole.ADMIN)

    @property
    def is_team_admin(self) -> bool:
        return bool(self.admin_team_ids)
