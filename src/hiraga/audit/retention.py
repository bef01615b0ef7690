"""Retention: delete audit records older than their type's retention period, keeping the chain
verifiable. Each maximal run of deleted records of one chain lane (merged with the retention
checkpoints it touches) becomes one checkpoint signed with the checkpoint key: "after the record with hash A, N records
were removed; the last of them had hash B". Seals on removed records go with them.

Runs only from the operator's CLI, in one transaction holding the chain lock, and only on a chain
that verifies — pruning must never launder a tampered record into a checkpoint. The newest record
of each lane is always kept, so new records keep chaining onto a record that is still there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select

from hiraga.audit import checkpoints
from hiraga.audit.chain import AUDIT, CHECKPOINTS, FIRST_LANE, LOCK_ALL_SQL, lane_of
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
    """Consecutive removed records of one lane and the retention checkpoints between them."""

    lane: int
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


class Runs:
    """Splits the walk into runs of removable records, per lane."""

    def __init__(self, policy: RetentionPolicy, now: datetime, newest: Mapping[int, int]) -> None:
        self.policy, self.now, self.newest = policy, now, newest
        self.open: dict[int, Run] = {}
        self.last_kept: dict[int, int] = {}

    def _run(self, lane: int, after_hash: str) -> Run:
        return self.open.setdefault(lane, Run(lane, self.last_kept.get(lane, 0), after_hash))

    def checkpoint(self, mark: Checkpoint) -> None:
        run = self._run(mark.lane, mark.after_hash)
        run.through_id, run.through_hash = mark.through_id, mark.through_hash
        run.count += mark.count
        run.merged.append(int(mark.id or 0))

    def record(self, row: Mapping[Any, Any]) -> Run | None:
        """The run this record closes, if any."""
        record_id, lane = int(row["id"]), lane_of(row)
        if record_id != self.newest[lane] and self.policy.expired(str(row["action"]), row["occurred_at"], self.now):
            run = self._run(lane, str(row["prev_hash"]))
            run.through_id, run.through_hash = record_id, str(row["hash"])
            run.count += 1
            run.new_records += 1
            return None
        self.last_kept[lane] = record_id
        closed = self.open.pop(lane, None)
        return closed if closed is not None and closed.new_records else None

    def rest(self) -> list[Run]:
        return [run for run in self.open.values() if run.new_records]


def _runs(connection: Connection, policy: RetentionPolicy, now: datetime) -> Iterator[Run]:
    lane = func.coalesce(AUDIT.c.lane, FIRST_LANE)
    newest = {int(k): int(v) for k, v in connection.execute(select(lane, func.max(AUDIT.c.id)).group_by(lane))}
    runs = Runs(policy, now, newest)
    for item in _items(connection, checkpoints.load_all(connection)):
        if isinstance(item, Checkpoint):
            runs.checkpoint(item)
        elif (closed := runs.record(item)) is not None:
            yield closed
    yield from runs.rest()


def prune(connection: Connection, keys: AuditKeys, policy: RetentionPolicy, now: datetime) -> PruneReport:
    """Delete expired records inside the caller's transaction; the caller commits."""
    connection.exec_driver_sql(LOCK_ALL_SQL)
    verified = verify_chain(connection, keys)
    if verified.problem is not None:
        raise Conflict(
            "監査ログの検証に失敗したため、保存期間による削除を行いません。"
            "先に hiraga audit verify で確認してください。",
            code="audit_chain_broken",
            detail={"record_id": verified.problem.record_id, "reason": verified.problem.code},
        )
    report = PruneReport()
    for run in list(_runs(connection, policy, now)):
        _apply(connection, run, keys, now)
        report.deleted += run.new_records
        report.checkpoints += 1
    return report


def _in_lane(column: Any, lane: int) -> Any:
    return column.is_(None) | (column == lane) if lane == FIRST_LANE else column == lane


def _apply(connection: Connection, run: Run, keys: AuditKeys, now: datetime) -> None:
    in_range = (AUDIT.c.id > run.after_id) & (AUDIT.c.id <= run.through_id) & _in_lane(AUDIT.c.lane, run.lane)
    connection.execute(delete(AUDIT).where(in_range))
    seals = (CHECKPOINTS.c.kind == checkpoints.SEAL) & (CHECKPOINTS.c.through_id > run.after_id)
    seals &= (CHECKPOINTS.c.through_id <= run.through_id) & _in_lane(CHECKPOINTS.c.lane, run.lane)
    connection.execute(delete(CHECKPOINTS).where(seals))
    if run.merged:
        connection.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.id.in_(run.merged)))
    mark = Checkpoint(
        None,
        checkpoints.RETENTION,
        run.after_id,
        run.after_hash,
        run.through_id,
        run.through_hash,
        run.count,
        now,
        lane=run.lane,
    )
    checkpoints.write(connection, mark, keys.checkpoint)
