"""Chain lanes: on PostgreSQL a transaction appends to the first lane no other transaction holds, so
two writers commit side by side; each lane is a chain of its own, and tampering, truncation,
retention and seals are judged per lane. SQLite writes one transaction at a time: one lane.

``lanes_together`` holds one open transaction per lane while the next appends, which is what two
serving processes do under load."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from audit_support import record

from hiraga.audit import anchors, chain, checkpoints, retention
from hiraga.audit.anchors import Sinks
from hiraga.audit.keys import AuditKeys
from hiraga.audit.verify import VerifyReport, verify_chain
from hiraga.store.database import Database

AUDIT = chain.AUDIT


def verify(database: Database, keys: AuditKeys) -> VerifyReport:
    with database.engine.connect() as connection:
        return verify_chain(connection, keys)


def is_postgres(database: Database) -> bool:
    return database.engine.dialect.name == "postgresql"


def lanes_together(database: Database, lanes: int, per_lane: int, **fields: Any) -> None:
    """``lanes`` transactions open at once, each appending ``per_lane`` records, then all commit.
    (SQLite allows one writing transaction: there they run one after the other.)"""
    if not is_postgres(database):
        for n in range(lanes):
            with database.engine.begin() as connection:
                chain.append(connection, [record(n * 100 + i, **fields) for i in range(per_lane)])
        return
    held = []
    for n in range(lanes):
        connection = database.engine.connect()
        transaction = connection.begin()
        chain.append(connection, [record(n * 100 + i, **fields) for i in range(per_lane)])
        held.append((connection, transaction))
    for connection, transaction in held:
        transaction.commit()
        connection.close()


def lane_of_records(database: Database) -> dict[int, int]:
    with database.engine.connect() as connection:
        return {int(i): int(lane) for i, lane in connection.execute(sa.select(AUDIT.c.id, AUDIT.c.lane))}


def test_a_writer_does_not_wait_for_another_lane(database: Database, audit_keys: AuditKeys) -> None:
    """A transaction holds its lane; a second writer, in another thread, appends and commits before
    the first commits (PostgreSQL: on the next lane). On SQLite it waits for the first, on lane 1."""
    first = database.engine.connect()
    transaction = first.begin()
    chain.append(first, [record(0)])
    second = threading.Thread(target=lambda: lanes_together(database, 1, 2, action="second"))
    second.start()
    if is_postgres(database):
        second.join(timeout=60)
        assert not second.is_alive()  # it did not wait for the first transaction
    transaction.commit()
    first.close()
    second.join(timeout=60)
    report = verify(database, audit_keys)
    assert report.ok, report.problem
    assert report.records == 3
    assert set(report.heads) == ({1, 2} if is_postgres(database) else {1})


def test_every_lane_verifies_and_a_deleted_record_breaks_its_own_lane(
    database: Database, audit_keys: AuditKeys
) -> None:
    lanes_together(database, 3, 4)
    lanes_together(database, 3, 4, action="later")
    report = verify(database, audit_keys)
    assert report.ok and report.records == 24
    lanes = lane_of_records(database)
    assert len(set(lanes.values())) == (3 if is_postgres(database) else 1)
    last_lane = max(lanes.values())
    in_last_lane = sorted(i for i, lane in lanes.items() if lane == last_lane)
    with database.engine.begin() as connection:
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.id == in_last_lane[1]))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "broken_link"
    assert problem.record_id == in_last_lane[2]  # the next record of the same lane, not of another


def test_moving_a_record_to_another_lane_is_an_edit(database: Database, audit_keys: AuditKeys) -> None:
    lanes_together(database, 2, 3)
    victim = min(lane_of_records(database))
    with database.engine.begin() as connection:
        connection.execute(sa.update(AUDIT).where(AUDIT.c.id == victim).values(lane=7))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "altered" and problem.record_id == victim


def test_anchors_name_the_truncated_tail_of_any_lane(database: Database, audit_keys: AuditKeys, tmp_path: Path) -> None:
    """Deleting the newest records of a lane that is not the newest overall still shows."""
    lanes_together(database, 2, 3)
    file = tmp_path / "anchors.jsonl"
    with database.engine.connect() as connection:
        anchors.write_anchor(connection, audit_keys.anchor, Sinks(file, syslog=False))
    lanes = lane_of_records(database)
    assert len(file.read_text().splitlines()) == len(set(lanes.values()))  # one line per lane head
    first_lane_head = max(i for i, lane in lanes.items() if lane == min(lanes.values()))
    with database.engine.begin() as connection:
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.id == first_lane_head))
    assert verify(database, audit_keys).ok  # what is left of the chain still verifies ...
    with database.engine.connect() as connection:
        count, problem = anchors.verify_anchors(connection, audit_keys.anchor, file)
    assert problem is not None and problem.code == "truncated"  # ... the anchor does not
    assert count == len(set(lanes.values()))
    assert problem.record_id == first_lane_head


def test_retention_prunes_each_lane_and_keeps_each_lanes_newest(database: Database, audit_keys: AuditKeys) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    lanes_together(database, 2, 5, occurred_at=old)
    lanes = lane_of_records(database)
    newest = {lane: max(i for i, other in lanes.items() if other == lane) for lane in set(lanes.values())}
    with database.engine.begin() as connection:
        report = retention.prune(connection, audit_keys, retention.RetentionPolicy({"*": 30}), datetime.now(UTC))
    assert report.deleted == 10 - len(newest)
    assert set(lane_of_records(database)) == set(newest.values())
    verified = verify(database, audit_keys)
    assert verified.ok, verified.problem
    assert verified.pruned == report.deleted
    lanes_together(database, 2, 2, action="after")  # new records chain onto each lane's kept one
    assert verify(database, audit_keys).ok


def test_a_seal_per_lane(database: Database, audit_keys: AuditKeys) -> None:
    lanes_together(database, 2, 2)
    with database.engine.begin() as connection:
        report = verify_chain(connection, audit_keys)
        checkpoints.seal(connection, report.heads, audit_keys.checkpoint)
    lanes_together(database, 2, 1, action="after")
    verified = verify(database, audit_keys)
    assert verified.ok and verified.seals == len(report.heads)
    lane, (sealed, _) = min(report.heads.items(), key=lambda item: item[1])
    in_lane = AUDIT.c.lane == lane
    with database.engine.begin() as connection:  # that lane's sealed record and what followed it: gone
        connection.execute(sa.delete(AUDIT).where(in_lane & (AUDIT.c.id >= sealed)))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "seal_mismatch" and problem.record_id == sealed
