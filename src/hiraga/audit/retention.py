"""Retention: delete audit records older than their type's retention period, keeping the chain
verifiable. Each maximal run of deleted records (merged with the retention checkpoints it touches)
becomes one checkpoint signed with the checkpoint key: "after the record with hash A, N records
were removed; the last of them had hash B". Seals on removed records go with them.

Runs only from the operator's CLI, in one transaction holding the chain lock, and only on a chain
that verifies — pruning must never launder a tampered record into a checkpoint. The newest record
is always kept, so new records keep chaining onto a record that is still there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select

from hiraga.audit import checkpoints
from hiraga.audit.chain import AUDIT, CHECKPOINTS, LOCK_SQL
from hiraga.audit.checkpoints import Checkpoint
from hiraga.audit.keys import AuditKeys
from hiraga.audit.verify import audit_rows, verify_chain
from hiraga.errors import Conflict, InvalidInput

ANY_ACTION = "*"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days to keep, per record type (``action``); ``*`` for every other type. Types without a
    rule and without ``*`` are kept for ever."""

    days: Mapping[str, int]

    def __post_init__(self) -> None:
        if any(d < 1 for d in self.days.values()):
            raise InvalidInput("保存期間は 1 日以上で指定してください。", detail={"field": "days"})

    def expired(self, action: str, occurred_at: datetime, now: datetime) -> bool:
        days = self.days.get(action, self.days.get(ANY_ACTION))
        return days is not None and occurred_at < now - timedelta(days=days)


@dataclass(slots=True)
class PruneReport:
    deleted: int = 0
    checkpoints: int = 0


@dataclass(slots=True)
class Run:
    """Consecutive removed records and the retention checkpoints between them."""

    after_id: int
    after_hash: str
    through_id: int = 0
    through_hash: str = ""
    count: int = 0
    new_records: int = 0
    merged: list[int] = field(default_factory=list)  # checkpoint ids this run replaces


def _items(connection: Connection, marks: list[Checkpoint]) -> Iterator[Mapping[Any, Any] | Checkpoint]:
    pending = [m for m in marks if m.kind == checkpoints.RETENTION]
    for row in audit_rows(connection):
        while pending and pending[0].through_id < int(row["id"]):
            yield pending.pop(0)
        yield row
    yield from pending


def _runs(connection: Connection, policy: RetentionPolicy, now: datetime, newest: int) -> Iterator[Run]:
    run: Run | None = None
    last_kept = (0, "")
    for item in _items(connection, checkpoints.load_all(connection)):
        if isinstance(item, Checkpoint):
            run = run or Run(last_kept[0], item.after_hash)
            run.through_id, run.through_hash = item.through_id, item.through_hash
            run.count += item.count
            run.merged.append(int(item.id or 0))
            continue
        record_id = int(item["id"])
        if record_id != newest and policy.expired(str(item["action"]), item["occurred_at"], now):
            run = run or Run(last_kept[0], str(item["prev_hash"]))
            run.through_id, run.through_hash = record_id, str(item["hash"])
            run.count += 1
            run.new_records += 1
            continue
        if run is not None and run.new_records:
            yield run
        run, last_kept = None, (record_id, str(item["hash"]))
    if run is not None and run.new_records:
        yield run


def prune(connection: Connection, keys: AuditKeys, policy: RetentionPolicy, now: datetime) -> PruneReport:
    """Delete expired records inside the caller's transaction; the caller commits."""
    connection.exec_driver_sql(LOCK_SQL)
    verified = verify_chain(connection, keys)
    if verified.problem is not None:
        raise Conflict(
            "監査ログの検証に失敗したため、保存期間による削除を行いません。"
            "先に hiraga audit verify で確認してください。",
            code="audit_chain_broken",
            detail={"record_id": verified.problem.record_id, "reason": verified.problem.code},
        )
    newest = connection.execute(select(func.max(AUDIT.c.id))).scalar()
    report = PruneReport()
    for run in list(_runs(connection, policy, now, int(newest or 0))):
        _apply(connection, run, keys, now)
        report.deleted += run.new_records
        report.checkpoints += 1
    return report


def _apply(connection: Connection, run: Run, keys: AuditKeys, now: datetime) -> None:
    in_range = (AUDIT.c.id > run.after_id) & (AUDIT.c.id <= run.through_id)
    connection.execute(delete(AUDIT).where(in_range))
    seals = (CHECKPOINTS.c.kind == checkpoints.SEAL) & (CHECKPOINTS.c.through_id > run.after_id)
    connection.execute(delete(CHECKPOINTS).where(seals & (CHECKPOINTS.c.through_id <= run.through_id)))
    if run.merged:
        connection.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.id.in_(run.merged)))
    mark = Checkpoint(
        None, checkpoints.RETENTION, run.after_id, run.after_hash, run.through_id, run.through_hash, run.count, now
    )
    checkpoints.write(connection, mark, keys.checkpoint)
