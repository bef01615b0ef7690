"""Signed checkpoints: HMAC over what a checkpoint states, with the checkpoint key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from hiraga.audit.chain import CHECKPOINTS, FIRST_LANE

RETENTION = "retention"
SEAL = "seal"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int | None
    kind: str
    after_id: int
    after_hash: str
    through_id: int
    through_hash: str
    count: int
    created_at: datetime
    signature: str = ""
    lane: int = FIRST_LANE

    def statement(self) -> bytes:
        """What is signed; the lane only when it is not the first (checkpoints from before lanes
        existed keep their signatures)."""
        at = self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields: tuple[object, ...] = (
            self.kind,
            self.after_id,
            self.after_hash,
            self.through_id,
            self.through_hash,
            self.count,
            at,
        )
        if self.lane != FIRST_LANE:
            fields = (*fields, f"lane={self.lane}")
        return "|".join(str(f) for f in fields).encode()

    def signed(self, key: bytes) -> Checkpoint:
        signature = hmac.digest(key, self.statement(), hashlib.sha256).hex()
        return Checkpoint(**{**self.as_row(), "id": self.id, "signature": signature})

    def is_authentic(self, key: bytes) -> bool:
        expected = hmac.digest(key, self.statement(), hashlib.sha256).hex()
        return hmac.compare_digest(expected, self.signature)

    def as_row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "after_id": self.after_id,
            "after_hash": self.after_hash,
            "through_id": self.through_id,
            "through_hash": self.through_hash,
            "count": self.count,
            "created_at": self.created_at,
            "signature": self.signature,
            "lane": self.lane,
        }


def from_row(row: Mapping[Any, Any]) -> Checkpoint:
    return Checkpoint(
        id=int(row["id"]),
        kind=str(row["kind"]),
        after_id=int(row["after_id"]),
        after_hash=str(row["after_hash"]),
        through_id=int(row["through_id"]),
        through_hash=str(row["through_hash"]),
        count=int(row["count"]),
        created_at=row["created_at"],
        signature=str(row["signature"]),
        lane=FIRST_LANE if row["lane"] is None else int(row["lane"]),
    )


def load_all(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.through_id, CHECKPOINTS.c.id))
    return [from_row(r._mapping) for r in rows]


def write(connection: Connection, checkpoint: Checkpoint, key: bytes) -> None:
    connection.execute(insert(CHECKPOINTS), [checkpoint.signed(key).as_row()])


def seal(connection: Connection, heads: Mapping[int, tuple[int, str]], key: bytes) -> None:
    """Sign each lane's tip an operator just verified: a later rewrite of the chain up to there shows."""
    now = datetime.now(UTC)
    for lane, (through_id, through_hash) in sorted(heads.items()):
        mark = Checkpoint(None, SEAL, through_id, through_hash, through_id, through_hash, 0, now, lane=lane)
        write(connection, mark, key)
