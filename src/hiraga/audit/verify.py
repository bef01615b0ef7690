"""Verify the audit chain: walk every record in id order (never by time, so a clock change cannot
matter) together with the signed checkpoints, following each lane (see ``hiraga.audit.chain``) as
a chain of its own, and name the first record that does not fit.

What breaks where:
* a changed field (or a changed ``hash``/``prev_hash``) → that record's HMAC does not match;
* a deleted record → the next record's ``prev_hash`` points at a hash that is not its predecessor;
* an inserted or moved record → its HMAC cannot be computed without the key, or its ``prev_hash``
  does not match its new predecessor; a record written around hiraga has no hash at all;
* records removed by retention are covered by a checkpoint signed with the checkpoint key.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from hiraga.audit import checkpoints
from hiraga.audit.chain import AUDIT, GENESIS, lane_of, layout_of
from hiraga.audit.checkpoints import Checkpoint
from hiraga.audit.keys import AuditKeys

PAGE = 20_000


@dataclass(frozen=True, slots=True)
class ChainBreak:
    code: str
    message: str
    record_id: int | None = None
    checkpoint_id: int | None = None


@dataclass(slots=True)
class VerifyReport:
    records: int = 0
    pruned: int = 0
    seals: int = 0
    last_id: int | None = None  # the newest record, of any lane
    tip: str = GENESIS  # its hash
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)  # lane → its last record and hash
    tips: dict[int, str] = field(default_factory=dict)  # lane → the hash its next record must follow
    problem: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def tip_of(self, lane: int) -> str:
        return self.tips.get(lane, GENESIS)


def audit_rows(connection: Connection, page: int = PAGE) -> Iterator[Mapping[Any, Any]]:
    """Every audit record in id order, a page at a time (keyset, so memory stays flat)."""
    after = -1
    while True:
        rows = connection.execute(select(AUDIT).where(AUDIT.c.id > after).order_by(AUDIT.c.id).limit(page)).all()
        if not rows:
            return
        for row in rows:
            yield row._mapping
        after = int(rows[-1].id)


class ChainWalk:
    """One pass over records and checkpoints; ``problem`` holds the first thing that is wrong."""

    def __init__(self, keys: AuditKeys, marks: list[Checkpoint]) -> None:
        self.keys = keys
        self.layout = layout_of(AUDIT)
        self.pending = deque(marks)
        self.report = VerifyReport()

    def record(self, row: Mapping[Any, Any]) -> ChainBreak | None:
        record_id = int(row["id"])
        problem = self._marks_before(record_id)
        if problem is not None:
            return problem
        stored = row["hash"]
        if stored is None:
            return ChainBreak(
                "unchained", "チェーンに含まれない記録です（hiraga を通さずに追加されました）。", record_id
            )
        if self.layout.hash_of(row, self.keys.chain) != stored:
            return ChainBreak("altered", "記録の内容が書き換えられています。", record_id)
        lane = lane_of(row)
        if row["prev_hash"] != self.report.tip_of(lane):
            return ChainBreak(
                "broken_link",
                "直前の記録と繋がっていません（直前の記録が削除されたか、この記録が挿入・移動されました）。",
                record_id,
            )
        self.report.tip, self.report.last_id = str(stored), record_id
        self.report.tips[lane], self.report.heads[lane] = str(stored), (record_id, str(stored))
        self.report.records += 1
        return None

    def finish(self) -> ChainBreak | None:
        return self._marks_before(None)

    def _marks_before(self, record_id: int | None) -> ChainBreak | None:
        while self.pending and (record_id is None or self.pending[0].through_id < record_id):
            problem = self._mark(self.pending.popleft())
            if problem is not None:
                return problem
        return None

    def _mark(self, mark: Checkpoint) -> ChainBreak | None:
        if not mark.is_authentic(self.keys.checkpoint):
            return ChainBreak("forged_checkpoint", "チェックポイントの署名が正しくありません。", checkpoint_id=mark.id)
        if mark.kind == checkpoints.SEAL:
            if self.report.heads.get(mark.lane) != (mark.through_id, mark.through_hash):
                return ChainBreak(
                    "seal_mismatch",
                    "検証済みの印（シール）と記録が一致しません（シール以前の記録が書き換えられました）。",
                    record_id=mark.through_id,
                    checkpoint_id=mark.id,
                )
            self.report.seals += 1
            return None
        if mark.after_hash != self.report.tip_of(mark.lane):
            return ChainBreak(
                "broken_link",
                "保存期間による削除のチェックポイントが直前の記録と繋がっていません。",
                checkpoint_id=mark.id,
            )
        self.report.tips[mark.lane] = mark.through_hash
        self.report.pruned += mark.count
        return None


def verify_chain(connection: Connection, keys: AuditKeys) -> VerifyReport:
    walk = ChainWalk(keys, checkpoints.load_all(connection))
    for row in audit_rows(connection):
        problem = walk.record(row)
        if problem is not None:
            walk.report.problem = problem
            return walk.report
    walk.report.problem = walk.finish()
    return walk.report
