"""The chain detects every kind of tampering and names the first bad record; appends from many
writers at once never fork it; the records' times play no part (a clock change is harmless)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from audit_support import Append, record

from hiraga.audit import chain
from hiraga.audit.keys import AuditKeys, derive
from hiraga.audit.verify import verify_chain
from hiraga.errors import ConfigurationError
from hiraga.store.database import Database

AUDIT = chain.AUDIT


def verify(database: Database, keys: AuditKeys):  # type: ignore[no-untyped-def]
    with database.engine.connect() as connection:
        return verify_chain(connection, keys)


def change(database: Database, statement: sa.Executable) -> None:
    with database.engine.begin() as connection:
        connection.execute(statement)


def test_an_untouched_chain_verifies(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(5) + append(7, start=5)
    report = verify(database, audit_keys)
    assert report.ok, report.problem
    assert (report.records, report.last_id) == (12, ids[-1])


@pytest.mark.parametrize(
    "column,value",
    [("cost_jpy", 0), ("classification", 3), ("actor_email", "someone@else.jp"), ("detail", "{}"), ("latency_ms", 1.0)],
)
def test_an_edited_field_is_named(
    database: Database, audit_keys: AuditKeys, append: Append, column: str, value: object
) -> None:
    ids = append(8)
    change(database, sa.update(AUDIT).where(AUDIT.c.id == ids[4]).values({column: value}))
    problem = verify(database, audit_keys).problem
    assert problem is not None and (problem.code, problem.record_id) == ("altered", ids[4])


def test_a_moved_time_is_an_edit(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(4)
    change(database, sa.update(AUDIT).where(AUDIT.c.id == ids[1]).values(occurred_at=datetime.now(UTC)))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.record_id == ids[1]


def test_a_deleted_record_breaks_the_next_link(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(6)
    change(database, sa.delete(AUDIT).where(AUDIT.c.id == ids[2]))
    problem = verify(database, audit_keys).problem
    assert problem is not None and (problem.code, problem.record_id) == ("broken_link", ids[3])


def test_an_inserted_record_is_named(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(4)
    with database.engine.connect() as connection:
        copy = dict(connection.execute(sa.select(AUDIT).where(AUDIT.c.id == ids[1])).one()._mapping)
    change(database, sa.delete(AUDIT).where(AUDIT.c.id > ids[1]))
    forged = {**copy, "id": ids[1] + 1, "request_id": "forged", "prev_hash": copy["hash"]}
    forged["hash"] = chain.layout_of(AUDIT).hash_of(forged, derive("not-the-secret-key" * 3).chain)
    change(database, sa.insert(AUDIT).values(forged))
    problem = verify(database, audit_keys).problem
    assert problem is not None and (problem.code, problem.record_id) == ("altered", ids[1] + 1)


def test_a_record_written_around_hiraga_is_unchained(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    append(3)
    change(database, sa.insert(AUDIT).values(record(99)))
    problem = verify(database, audit_keys).problem
    assert problem is not None and problem.code == "unchained"


def test_reordered_records_are_named(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(6)
    with database.engine.connect() as connection:
        rows = {r.id: dict(r._mapping) for r in connection.execute(sa.select(AUDIT).where(AUDIT.c.id.in_(ids[2:4])))}
    with database.engine.begin() as connection:
        for target, source in ((ids[2], ids[3]), (ids[3], ids[2])):
            values = {k: v for k, v in rows[source].items() if k != "id"}
            connection.execute(sa.update(AUDIT).where(AUDIT.c.id == target).values(values))
    problem = verify(database, audit_keys).problem
    assert problem is not None and (problem.code, problem.record_id) == ("broken_link", ids[2])


def test_the_chain_key_matters(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    append(2)
    wrong = derive("another-installation-secret-key-0123456789")
    problem = verify(database, wrong).problem
    assert problem is not None and problem.code == "altered"


def test_times_going_backwards_do_not_matter(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    """The clock jumped back a year between two appends: order is by id, so it still verifies."""
    append(3)
    append(3, start=3, occurred_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert verify(database, audit_keys).ok


def test_an_engine_without_the_key_cannot_append(database_url: str) -> None:
    unbound = Database(database_url)  # the fixture's engine carries the key, as the app's does
    try:
        with unbound.engine.begin() as connection, pytest.raises(ConfigurationError):
            chain.append(connection, [record(0)])
    finally:
        unbound.dispose()


def test_records_from_before_the_chain_are_chained_first(database: Database, audit_keys: AuditKeys) -> None:
    change(database, sa.insert(AUDIT).values([record(0), record(1)]))
    with database.engine.begin() as connection:
        chain.append(connection, [record(2)])
    report = verify(database, audit_keys)
    assert report.ok and report.records == 3


def test_concurrent_writers_never_fork_the_chain(database: Database, audit_keys: AuditKeys) -> None:
    """Eight threads, each with its own connection and transactions, append at once."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for batch in range(10):
                with database.engine.begin() as connection:
                    chain.append(connection, [record(n * 100 + batch * 3 + i) for i in range(3)])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = verify(database, audit_keys)
    assert report.ok, report.problem
    assert report.records == 8 * 10 * 3
    with database.engine.connect() as connection:
        links = connection.execute(sa.select(AUDIT.c.lane, AUDIT.c.prev_hash)).all()
    assert len(set(links)) == len(links)  # no two records of a lane follow the same one


def test_separate_processes_share_one_chain(database_url: str, database: Database, audit_keys: AuditKeys) -> None:
    """Two OS processes append concurrently through their own engines."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime
        from hiraga.audit import chain, keys
        from hiraga.store.database import Database
        db = Database({database_url!r})
        engine = db.engine.execution_options(**{{keys.OPTION: bytes.fromhex({audit_keys.chain.hex()!r})}})
        for i in range(25):
            with engine.begin() as connection:
                chain.append(connection, [{{"occurred_at": datetime.now(UTC), "action": "p" + sys.argv[1],
                                            "outcome": "ok"}}, {{"occurred_at": datetime.now(UTC),
                                            "action": "p" + sys.argv[1], "outcome": "ok"}}])
        """
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    report = verify(database, audit_keys)
    assert report.ok, report.problem
    assert report.records == 100


def test_the_tip_is_the_last_hash(database: Database, audit_keys: AuditKeys, append: Append) -> None:
    ids = append(2, occurred_at=datetime.now(UTC) - timedelta(days=3))
    with database.engine.connect() as connection:
        tip = chain.chain_tip(connection)
        last = connection.execute(sa.select(AUDIT.c.hash).where(AUDIT.c.id == ids[-1])).scalar_one()
    assert tip == last
