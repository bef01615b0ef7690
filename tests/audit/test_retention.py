"""Retention deletes old records per type and leaves a chain that still verifies through signed
checkpoints; a forged checkpoint, a seal that no longer matches, and a broken chain are caught."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from audit_support import Append, record

from hiraga.audit import chain, checkpoints
from hiraga.audit.keys import AuditKeys
from hiraga.audit.retention import RetentionPolicy, prune
from hiraga.audit.verify import verify_chain
from hiraga.errors import Conflict, InvalidInput
from hiraga.store.database import Database

AUDIT, CHECKPOINTS = chain.AUDIT, chain.CHECKPOINTS
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def seed_mixed(database: Database) -> None:
    """Twenty records, one a day from 100 days ago; every third is an app run."""
    rows = [
        record(i, occurred_at=NOW - timedelta(days=100 - i), action="app_run" if i % 3 == 0 else "model_call")
        for i in range(20)
    ]
    with database.engine.begin() as connection:
        chain.append(connection, rows)


def remaining(database: Database) -> list[tuple[int, str]]:
    with database.engine.connect() as connection:
        return [
            (int(i), str(a)) for i, a in connection.execute(sa.select(AUDIT.c.id, AUDIT.c.action).order_by(AUDIT.c.id))
        ]


def run_prune(database: Database, keys: AuditKeys, days: dict[str, int]):  # type: ignore[no-untyped-def]
    with database.engine.begin() as connection:
        return prune(connection, keys, RetentionPolicy(days), NOW)


def verify(database: Database, keys: AuditKeys):  # type: ignore[no-untyped-def]
    with database.engine.connect() as connection:
        return verify_chain(connection, keys)


def test_per_type_retention_keeps_the_chain_verifiable(database: Database, audit_keys: AuditKeys) -> None:
    seed_mixed(database)
    report = run_prune(database, audit_keys, {"model_call": 90})
    left = remaining(database)
    # model calls older than 90 days (days 100..91 → i 0..9, minus app runs 0,3,6,9) are gone
    assert report.deleted == 6
    assert [a for _, a in left].count("app_run") == 7
    assert all(a == "app_run" for i, a in left if i <= 10)
    verified = verify(database, audit_keys)
    assert verified.ok, verified.problem
    assert (verified.records, verified.pruned) == (14, 6)


def test_a_later_prune_merges_checkpoints(database: Database, audit_keys: AuditKeys) -> None:
    seed_mixed(database)
    run_prune(database, audit_keys, {"model_call": 90})
    run_prune(database, audit_keys, {"*": 85})
    with database.engine.connect() as connection:
        marks = checkpoints.load_all(connection)
    assert [(m.kind, m.after_id, m.count) for m in marks] == [("retention", 0, 15)]
    verified = verify(database, audit_keys)
    assert verified.ok and (verified.records, verified.pruned) == (5, 15)
    # new records chain on after pruning
    with database.engine.begin() as connection:
        chain.append(connection, [record(50)])
    assert verify(database, audit_keys).ok


def test_the_newest_record_is_always_kept(database: Database, audit_keys: AuditKeys) -> None:
    seed_mixed(database)
    run_prune(database, audit_keys, {"*": 1})
    assert len(remaining(database)) == 1
    assert verify(database, audit_keys).ok


def test_a_forged_checkpoint_is_caught(database: Database, audit_keys: AuditKeys) -> None:
    seed_mixed(database)
    run_prune(database, audit_keys, {"model_call": 90})
    with database.engine.begin() as connection:
        connection.execute(sa.update(CHECKPOINTS).values(count=CHECKPOINTS.c.count + 1))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "forged_checkpoint"


def test_deleting_records_without_a_checkpoint_is_caught(database: Database, audit_keys: AuditKeys) -> None:
    seed_mixed(database)
    run_prune(database, audit_keys, {"model_call": 90})
    first_kept = remaining(database)[0][0]
    with database.engine.begin() as connection:
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.id == first_kept))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "broken_link"


def test_prune_refuses_a_broken_chain(database: Database, audit_keys: AuditKeys) -> None:
    seed_mixed(database)
    with database.engine.begin() as connection:
        connection.execute(sa.update(AUDIT).where(AUDIT.c.id == 2).values(cost_jpy=9))
    with pytest.raises(Conflict) as refused:
        run_prune(database, audit_keys, {"*": 1})
    assert refused.value.detail["record_id"] == 2
    assert len(remaining(database)) == 20  # nothing deleted


def test_a_seal_shows_a_rewrite_after_it(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(3)
    with database.engine.begin() as connection:
        report = verify_chain(connection, audit_keys)
        checkpoints.seal(connection, report.heads, audit_keys.checkpoint)
    append(2, start=3)
    report = verify(database, audit_keys)
    assert report.ok and report.seals == 1
    with database.engine.begin() as connection:  # the sealed tip is deleted: the seal no longer matches
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.id >= ids[-1]))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "seal_mismatch"


def test_retention_days_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        RetentionPolicy({"model_call": 0})
