"""Reading the audit log: filters, pages, and a streamed walk for exports.

Auditors and system administrators see every record; team administrators see their own teams'
records; anyone else is refused. Nothing here writes: hiraga has no way to change a record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, select, true
from sqlalchemy.orm import Session

from hiraga.audit.chain import AUDIT
from hiraga.errors import Forbidden, InvalidInput
from hiraga.spine.authorize import AccessScope

MAX_PAGE = 500
EXPORT_PAGE = 2_000
OUTCOMES = frozenset({"ok", "refused", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    user_id: int | None = None
    team_id: int | None = None
    model: str | None = None  # the requested model or the endpoint that answered
    app: str | None = None  # an app's name ("要約" or "app:要約"), or a channel ("portal", "api")
    classification: int | None = None
    outcome: str | None = None
    action: str | None = None


def visible(scope: AccessScope) -> ColumnElement[bool]:
    """The records the caller may read (raises for callers who may read none)."""
    p = scope.principal
    if p.is_auditor or p.is_system_admin:
        return true()
    if not p.is_team_admin:
        raise Forbidden("監査ログは監査担当者・システム管理者・チーム管理者のみが閲覧できます。")
    return scope.admin_team_filter(AUDIT.c.team_id)


def conditions(scope: AccessScope, wanted: AuditFilter) -> list[ColumnElement[bool]]:
    if wanted.since and wanted.until and wanted.since > wanted.until:
        raise InvalidInput("期間の開始が終了より後になっています。", detail={"field": "since"})
    if wanted.classification is not None and wanted.classification not in (1, 2, 3):
        raise InvalidInput("機密性は 1・2・3 のいずれかで指定してください。", detail={"field": "classification"})
    if wanted.outcome is not None and wanted.outcome not in OUTCOMES:
        raise InvalidInput("結果は ok・refused・failed・cancelled のいずれかです。", detail={"field": "outcome"})
    found = [visible(scope)]
    if wanted.since:
        found.append(AUDIT.c.occurred_at >= wanted.since)
    if wanted.until:
        found.append(AUDIT.c.occurred_at < wanted.until)
    if wanted.model:
        found.append((AUDIT.c.model == wanted.model) | (AUDIT.c.endpoint_name == wanted.model))
    if wanted.app:
        source = wanted.app if ":" in wanted.app or wanted.app in ("api", "portal") else f"app:{wanted.app}"
        found.append(AUDIT.c.source == source)
    for column, value in (
        (AUDIT.c.actor_user_id, wanted.user_id),
        (AUDIT.c.team_id, wanted.team_id),
        (AUDIT.c.classification, wanted.classification),
        (AUDIT.c.outcome, wanted.outcome),
        (AUDIT.c.action, wanted.action),
    ):
        if value is not None:
            found.append(column == value)
    return found


def list_records(
    session: Session, scope: AccessScope, wanted: AuditFilter, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Newest first; the next page starts ``before_id`` the last one's id."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"件数は 1〜{MAX_PAGE} 件で指定してください。", detail={"field": "limit"})
    query = select(AUDIT).where(*conditions(scope, wanted))
    if before_id is not None:
        query = query.where(AUDIT.c.id < before_id)
    rows = session.execute(query.order_by(AUDIT.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]


def walk_records(connection: Connection, where: list[ColumnElement[bool]]) -> Iterator[dict[str, Any]]:
    """Every matching record, oldest first, a page at a time (for exports of any size)."""
    after = -1
    while True:
        page = connection.execute(
            select(AUDIT).where(*where, AUDIT.c.id > after).order_by(AUDIT.c.id).limit(EXPORT_PAGE)
        ).all()
        if not page:
            return
        for row in page:
            yield dict(row._mapping)
        after = int(page[-1].id)
