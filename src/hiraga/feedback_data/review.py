"""Review and erasure: a team admin sees the scrubbed items of their teams and approves, edits
(the edit is scrubbed again) or rejects each; items without findings can be approved in bulk. A user
withdraws their own items, an admin any item of their teams or all of one user's. Every decision
is an audit record; nothing is exported without approval."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import Forbidden, InvalidInput, NotFound
from hiraga.feedback_data.policy import withdraw_all_of
from hiraga.feedback_data.scrub import ItemTexts, scrub
from hiraga.identity.principal import Principal
from hiraga.pii import PiiDetector
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import DatasetItem, Membership

STATUSES = ("pending", "approved", "rejected", "withdrawn")
DECISIONS = ("approve", "reject")
PAGE = 50


def _missing() -> NotFound:
    return NotFound("指定された評価データが見つかりません。", code="dataset_item_not_found")


def reviewable(db: Session, scope: AccessScope, item_id: int) -> DatasetItem:
    """An item of a team the caller administers; a member of that team is refused (403), anyone else
    gets 404 as if it did not exist."""
    row = db.get(DatasetItem, item_id)
    if row is None:
        raise _missing()
    if _admin(scope, row):
        return row
    if row.team_id in scope.principal.team_ids:
        raise Forbidden("チーム管理者のみが評価データを確認できます。", code="dataset_review_forbidden")
    raise _missing()


def _admin(scope: AccessScope, row: DatasetItem) -> bool:
    p = scope.principal
    return p.is_system_admin or row.team_id in p.admin_team_ids


def queue(
    db: Session, scope: AccessScope, team_id: int | None = None, status: str = "pending", offset: int = 0
) -> Sequence[DatasetItem]:
    scope.require_admin_of_any_team()
    if status not in STATUSES:
        raise InvalidInput("状態の指定が正しくありません。", code="invalid_status", detail={"field": "status"})
    query = select(DatasetItem).where(scope.admin_team_filter(DatasetItem.team_id), DatasetItem.status == status)
    if team_id is not None:
        scope.require_team_admin(team_id)
        query = query.where(DatasetItem.team_id == team_id)
    return db.scalars(query.order_by(DatasetItem.id).offset(max(0, offset)).limit(PAGE)).all()


def counts(db: Session, scope: AccessScope, team_id: int | None = None) -> dict[str, int]:
    query = select(DatasetItem.status, func.count()).where(scope.admin_team_filter(DatasetItem.team_id))
    if team_id is not None:
        query = query.where(DatasetItem.team_id == team_id)
    found = {str(status): int(n) for status, n in db.execute(query.group_by(DatasetItem.status))}
    return {status: int(found.get(status, 0)) for status in STATUSES}


def decide(db: Session, scope: AccessScope, item_id: int, decision: str) -> DatasetItem:
    if decision not in DECISIONS:
        raise InvalidInput("判断は approve か reject で指定してください。", code="invalid_decision")
    row = reviewable(db, scope, item_id)
    _require_open(row)
    _mark(row, scope.principal, "approved" if decision == "approve" else "rejected")
    db.flush()
    _audit(db, scope.principal, row, decision)
    return row


def edit_and_approve(
    db: Session, scope: AccessScope, item_id: int, texts: ItemTexts, detectors: list[PiiDetector] | None = None
) -> DatasetItem:
    """The admin's edit replaces the item's texts (scrubbed again: an edit cannot bring PII back)."""
    row = reviewable(db, scope, item_id)
    _require_open(row)
    if not texts.prompt or not (texts.answer.strip() or texts.corrected.strip()):
        raise InvalidInput("質問と回答を空にはできません。", code="invalid_dataset_item")
    scrubbed = scrub(texts, detectors)
    row.content = json.dumps(scrubbed.texts.as_json(), ensure_ascii=False)
    row.findings, row.findings_total = json.dumps(scrubbed.counts, sort_keys=True), scrubbed.total
    row.edited = True
    _mark(row, scope.principal, "approved")
    db.flush()
    _audit(db, scope.principal, row, "edit")
    return row


def bulk_approve(db: Session, scope: AccessScope, team_id: int) -> int:
    """Approve every pending item of the team in which the detectors found nothing."""
    scope.require_team_admin(team_id)
    now = datetime.now(UTC)
    result = db.execute(
        update(DatasetItem)
        .where(DatasetItem.team_id == team_id, DatasetItem.status == "pending", DatasetItem.findings_total == 0)
        .values(status="approved", reviewed_by=scope.principal.user_id or None, reviewed_at=now)
    )
    approved = int(getattr(result, "rowcount", 0) or 0)
    events.record(
        db, events.DATASET_ITEMS_BULK_APPROVED, scope.principal, team_id=team_id, detail={"approved": approved}
    )
    return approved


def withdraw(db: Session, principal: Principal, item_id: int) -> DatasetItem:
    """The item's user or an admin of its team takes it out of every future export."""
    row = db.get(DatasetItem, item_id)
    own = row is not None and row.user_id == principal.user_id
    if row is None or not (own or _admin(AccessScope(principal), row)):
        raise _missing()
    if row.status != "withdrawn":
        row.status, row.withdrawn_at = "withdrawn", datetime.now(UTC)
        db.flush()
        detail = {"item_id": row.id, "by": "user" if own else "admin"}
        events.record(db, events.DATASET_ITEM_WITHDRAWN, principal, team_id=row.team_id, detail=detail)
    return row


def withdraw_user(db: Session, scope: AccessScope, team_id: int, user_id: int) -> int:
    """An admin withdraws all of one member's items (for example on a data subject's request)."""
    scope.require_team_admin(team_id)
    member = db.get(Membership, {"user_id": user_id, "team_id": team_id})
    if member is None and not db.scalar(
        select(func.count()).where(DatasetItem.team_id == team_id, DatasetItem.user_id == user_id)
    ):
        raise NotFound("指定された利用者が見つかりません。", code="user_not_found")
    withdrawn = withdraw_all_of(db, user_id, team_id)
    detail = {"user_id": user_id, "items_withdrawn": withdrawn, "by": "admin"}
    events.record(db, events.DATASET_ITEM_WITHDRAWN, scope.principal, team_id=team_id, detail=detail)
    return withdrawn


def mine(db: Session, principal: Principal) -> Sequence[DatasetItem]:
    query = select(DatasetItem).where(DatasetItem.user_id == principal.user_id).order_by(DatasetItem.id.desc())
    return db.scalars(query.limit(200)).all()


def _require_open(row: DatasetItem) -> None:
    if row.status == "withdrawn":
        raise InvalidInput("取り下げられた評価データは確認できません。", code="dataset_item_withdrawn")


def _mark(row: DatasetItem, principal: Principal, status: str) -> None:
    row.status, row.reviewed_by, row.reviewed_at = status, principal.user_id or None, datetime.now(UTC)


def _audit(db: Session, principal: Principal, row: DatasetItem, decision: str) -> None:
    detail = {"item_id": row.id, "decision": decision, "findings": json.loads(row.findings or "{}")}
    events.record(
        db, events.DATASET_ITEM_REVIEWED, principal, team_id=row.team_id, subject=row.model_name, detail=detail
    )
