"""The hash chain over ``audit_records``.

Each record's ``hash`` is HMAC-SHA-256 (key derived from the secret key, see ``keys``) over a
canonical serialisation of all its columns except ``id`` and ``hash`` — including ``prev_hash``,
the hash of the record before it in id order (the first record's ``prev_hash`` is ``GENESIS``).
Changing any field, or deleting, inserting or reordering a record, breaks the chain at that point,
and without the key nobody can compute a chain that verifies.

Canonical form: a JSON object of the non-null columns, keys sorted, values normalised by column
type (datetimes as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, numerics quantised to the column's scale,
floats by ``repr``). Null columns are left out, so adding a nullable column later does not change
the hashes of the records written before it.

Lanes: the chain is split into lanes (``lane`` column; NULL, in records written before lanes
existed, means lane 1). Each lane is a chain of its own in id order, with its own head row in
``audit_chain_head``. ``append`` first locks a lane's head row — on PostgreSQL the first lane no
other transaction holds (``FOR UPDATE SKIP LOCKED``; the migration makes 8), on SQLite the one lane
(SQLite writes one transaction at a time anyway) — and holds it until the transaction ends, then
reads that lane's tip and inserts. Appends to one lane are serialised, so a lane never forks and its
ids grow in chain order; two serving processes commit on two lanes side by side instead of taking
turns at one lock across each other's WAL flush. The lane and tip are remembered for the rest of the
transaction, so a group-committed batch pays for the lock and the tip lookup once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, text, update
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.types import Boolean, DateTime, Float, Integer, Numeric, TypeDecorator, TypeEngine

from hiraga.audit.keys import chain_key
from hiraga.store.tables.audit import AuditCheckpoint
from hiraga.store.tables.usage import AuditRecord

GENESIS = "0" * 64
UNHASHED = frozenset({"id", "hash"})
AUDIT = cast(Table, AuditRecord.__table__)
CHECKPOINTS = cast(Table, AuditCheckpoint.__table__)
TIP_KEY = "hiraga.audit.tip"
FIRST_LANE = 1
# Hand-written SQL: these run once per appending transaction.
HEAD_SQL = text("SELECT id, hash FROM audit_records WHERE lane = :lane ORDER BY id DESC LIMIT 1")
UNLANED_HEAD_SQL = text(
    "SELECT id, hash FROM audit_records WHERE lane IS NULL AND hash IS NOT NULL ORDER BY id DESC LIMIT 1"
)
LOCK_SQL = (  # the first lane, blocking (SQLite; PostgreSQL when every lane is busy)
    "INSERT INTO audit_chain_head (id, version) VALUES (1, 1)"
    " ON CONFLICT (id) DO UPDATE SET version = audit_chain_head.version + 1"
)
FREE_LANE_SQL = (  # PostgreSQL: the first lane no other transaction holds, locked
    "UPDATE audit_chain_head SET version = version + 1 WHERE id ="
    " (SELECT id FROM audit_chain_head ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)
LOCK_ALL_SQL = "UPDATE audit_chain_head SET version = version + 1"  # every lane (retention)

Normalise = Callable[[Any], Any]


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment = cast(datetime, value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _numeric(scale: int) -> Normalise:
    step = Decimal(1).scaleb(-scale)
    return lambda value: Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


def _normaliser(kind: TypeEngine[Any]) -> Normalise:
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        return _utc
    if isinstance(kind, Float):
        return float
    if isinstance(kind, Numeric):
        return _numeric(kind.scale if kind.scale is not None else 6)
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Integer):
        return int
    return str


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class Layout:
    """How one version of the audit table's rows are normalised and hashed."""

    columns: tuple[tuple[str, Normalise], ...]  # every column but ``id``, sorted by name
    defaults: Mapping[str, Any]

    def complete(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Every column, defaults filled in, values normalised as the database gives them back."""
        full: dict[str, Any] = {}
        for name, normalise in self.columns:
            value = row.get(name, self.defaults.get(name))
            full[name] = None if value is None else normalise(value)
        return full

    def canonical(self, row: Mapping[str, Any]) -> bytes:
        fields = {
            name: _jsonable(normalise(value))
            for name, normalise in self.columns
            if name not in UNHASHED and (value := row.get(name)) is not None
        }
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()

    def hash_of(self, row: Mapping[str, Any], key: bytes) -> str:
        return hmac.digest(key, self.canonical(row), hashlib.sha256).hex()


@cache
def layout_of(table: Table) -> Layout:
    defaults = {c.name: c.default.arg for c in table.columns if isinstance(c.default, ScalarElementColumnDefault)}
    columns = tuple(sorted((c.name, _normaliser(c.type)) for c in table.columns if c.name != "id"))
    return Layout(columns, defaults)


# -- appending -------------------------------------------------------------------------------------
def lane_of(row: Mapping[str, Any]) -> int:
    lane = row.get("lane")
    return FIRST_LANE if lane is None else int(lane)


def lane_head(connection: Connection, lane: int) -> tuple[int, str] | None:
    """The id and hash of the lane's last chained record (an index lookup)."""
    last = connection.execute(HEAD_SQL, {"lane": lane}).first()
    if last is None and lane == FIRST_LANE:
        last = connection.execute(UNLANED_HEAD_SQL).first()
    return None if last is None else (int(last[0]), str(last[1]))


def lane_heads(connection: Connection) -> dict[int, tuple[int, str]]:
    """Every lane's last chained record, by lane."""
    lanes = connection.exec_driver_sql("SELECT id FROM audit_chain_head ORDER BY id").scalars().all()
    return {int(lane): head for lane in lanes if (head := lane_head(connection, int(lane))) is not None}


def chain_tip(connection: Connection, lane: int = FIRST_LANE) -> str:
    """The hash the lane's next record must carry as ``prev_hash`` (call it holding the lane's lock):
    the lane's last record's, else (all pruned, which retention never does) its last checkpoint's."""
    head = lane_head(connection, lane)
    if head is not None:
        return head[1]
    in_lane = CHECKPOINTS.c.lane == lane
    if lane == FIRST_LANE:
        in_lane = in_lane | CHECKPOINTS.c.lane.is_(None)
    pruned = connection.execute(
        select(CHECKPOINTS.c.through_hash)
        .where((CHECKPOINTS.c.kind == "retention") & in_lane)
        .order_by(CHECKPOINTS.c.through_id.desc())
        .limit(1)
    ).first()
    return str(pruned[0]) if pruned is not None else GENESIS


def _take_lane(connection: Connection) -> int:
    if connection.dialect.name == "postgresql":
        free = connection.exec_driver_sql(FREE_LANE_SQL).first()
        if free is not None:
            return int(free[0])
    connection.exec_driver_sql(LOCK_SQL)
    return FIRST_LANE


def lock_chain(connection: Connection) -> tuple[int, str]:
    """Take a lane's lock for this transaction; the lane and its current tip."""
    transaction = connection.get_transaction()
    remembered = connection.info.get(TIP_KEY)
    if remembered is not None and remembered[0] is transaction:
        return int(remembered[1]), str(remembered[2])
    lane = _take_lane(connection)
    tip = chain_tip(connection, lane)
    if tip == GENESIS and lane == FIRST_LANE:
        tip = _chain_older_records(connection)
    connection.info[TIP_KEY] = (transaction, lane, tip)
    return lane, tip


def append(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Insert audit rows at the end of a lane, inside the caller's transaction."""
    if not rows:
        return []
    key = chain_key(connection)
    layout = layout_of(AUDIT)
    lane, tip = lock_chain(connection)
    chained = []
    for row in rows:
        full = layout.complete(row)
        full["lane"] = lane
        full["prev_hash"] = tip
        full["hash"] = tip = layout.hash_of(full, key)
        chained.append(full)
    connection.execute(insert(AUDIT), chained)
    connection.info[TIP_KEY] = (connection.get_transaction(), lane, tip)
    return chained


def _chain_older_records(connection: Connection) -> str:
    """Before the first chained record: chain the records written before the chain existed
    (an upgraded installation). Once the chain has begun, an unchained record is an insertion."""
    if connection.execute(select(AUDIT.c.id).where(AUDIT.c.hash.is_not(None)).limit(1)).first() is not None:
        return GENESIS  # another lane has begun the chain
    key = chain_key(connection)
    layout = layout_of(AUDIT)
    tip = GENESIS
    unchained = AUDIT.c.hash.is_(None) & AUDIT.c.lane.is_(None)
    rows: Iterable[Any] = connection.execute(select(AUDIT).where(unchained).order_by(AUDIT.c.id))
    for row in list(rows):
        full = layout.complete(row._mapping)
        full["prev_hash"] = tip
        tip = layout.hash_of(full, key)
        connection.execute(update(AUDIT).where(AUDIT.c.id == row.id).values(prev_hash=full["prev_hash"], hash=tip))
    return tip
