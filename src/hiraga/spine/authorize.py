"""Step 2 of the spine: what may this principal see and change?

Every query that returns team data is narrowed here, in one place, by ``AccessScope``; services
take a scope and never decide visibility themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, true

from hiraga.errors import Forbidden, NotFound
from hiraga.identity.principal import Principal


@dataclass(frozen=True, slots=True)
class AccessScope:
    principal: Principal

    # -- reading ------------------------------------------------------------------------------
    def team_filter(self, team_id_column: Any) -> ColumnElement[bool]:
        """SQL condition: rows whose team the caller may see."""
        if self.principal.is_system_admin or self.principal.is_auditor:
            return true()
        ids = self.principal.team_ids
        return team_id_column.in_(ids) if ids else false()

    def admin_team_filter(self, team_id_column: Any) -> ColumnElement[bool]:
        """SQL condition: rows whose team the caller administers."""
        if self.principal.is_system_admin:
            return true()
        ids = self.principal.admin_team_ids
        return team_id_column.in_(ids) if ids else false()

    def can_see_team(self, team_id: int) -> bool:
        p = self.principal
        return p.is_system_admin or p.is_auditor or team_id in p.team_ids

    # -- guarding -----------------------------------------------------------------------------
    def require_system_admin(self) -> None:
        if not self.principal.is_system_admin:
            raise Forbidden("システム管理者のみが行える操作です。")

    def require_admin_of_any_team(self) -> None:
        if not (self.principal.is_system_admin or self.principal.is_team_admin):
            raise Forbidden("チーム管理者またはシステム管理者のみが行える操作です。")

    def require_team_admin(self, team_id: int) -> None:
        """Team admins manage their own teams; another team's id looks like a missing one."""
        if self.principal.is_system_admin or team_id in self.principal.admin_team_ids:
            return
        if self.can_see_team(team_id):
            raise Forbidden("このチームの管理者のみが行える操作です。")
        raise NotFound("指定されたチームが見つかりません。")

    def require_auditor(self) -> None:
        if not (self.principal.is_auditor or self.principal.is_system_admin):
            raise Forbidden("監査担当者またはシステム管理者のみが閲覧できます。")
