"""Upgrades with data in the database: from the first schema to the newest, on SQLite and PostgreSQL.

The database is migrated one revision at a time; after each, every table that revision created gets
rows (generated from the columns that exist at that point, foreign keys pointing at rows seeded
before). At the newest revision every mapped table must load through the current ORM (every column,
every enum), nothing seeded may be lost, and the audit records written before the chain existed are
chained by the first append and verify.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from cli.processes import HIRAGA
from hiraga.audit import keys as audit_keys
from hiraga.audit.verify import verify_chain
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database, normalise_url
from hiraga.store.tables import Base
from postgres_support import fresh_databases

ROOT = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))
ROWS_PER_TABLE = 2
NOT_SEEDED = {"alembic_version", "audit_chain_head", "audit_checkpoints"}  # the chain's own bookkeeping


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_databases("hiraga_migrations") as (url,):
        yield url


@pytest.mark.slow
def test_processes_migrating_one_database_at_once_take_turns(empty_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIRAGA_")}
    env |= {"HIRAGA_DATABASE_URL": empty_url, "HIRAGA_SECRET_KEY": "migrate-" + "m3" * 20}
    jobs = [
        subprocess.Popen(
            [HIRAGA, "db", "upgrade", "--data-dir", str(tmp_path / f"d{i}")], env=env, stderr=subprocess.PIPE
        )
        for i in range(3)
    ]
    results = [(job.wait(timeout=120), job.stderr.read().decode() if job.stderr else "") for job in jobs]
    assert [code for code, _ in results] == [0, 0, 0], results
    engine = sa.create_engine(normalise_url(empty_url))
    try:
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def revisions_in_order() -> list[str]:
    return [script.revision for script in reversed(list(migrate._scripts().walk_revisions()))]


def test_every_revision_upgrades_with_data_to_the_newest(empty_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(normalise_url(empty_url))
    seeded: dict[str, int] = {}
    try:
        for revision in revisions_in_order():
            migrate.upgrade(empty_url, revision)
            with engine.begin() as connection:
                for table in sorted(set(sa.inspect(connection).get_table_names()) - set(seeded) - NOT_SEEDED):
                    seeded[table] = 0
                for table in [t.name for t in Base.metadata.sorted_tables if t.name in seeded and not seeded[t.name]]:
                    seeded[table] = _seed(connection, table)
        assert migrate.is_current(engine)
        with engine.connect() as connection:
            for table, count in seeded.items():
                assert connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table))) >= count, table
    finally:
        engine.dispose()
    assert seeded.get("audit_records") == ROWS_PER_TABLE and sum(seeded.values()) > 60  # data in most tables
    _current_code_reads_and_extends_it(empty_url, tmp_path, seeded)


def _current_code_reads_and_extends_it(url: str, tmp_path: Path, seeded: dict[str, int]) -> None:
    settings = load_settings(data_dir=tmp_path / "data", database_url=url, secret_key="upgrade-" + "k9" * 20)
    database = Database(url)
    audit_keys.bind(database.engine, settings)
    try:
        with database.session() as db:
            for mapper in Base.registry.mappers:  # every column of every row, every enum value, loads
                rows = db.scalars(sa.select(mapper.class_)).all()
                assert len(rows) >= seeded.get(mapper.local_table.name, 0), mapper.local_table.name
        with database.session() as db:
            directory.create_user(db, ROOT, email="after-upgrade@city.example.lg.jp", password=None)
        with database.engine.connect() as connection:
            report = verify_chain(connection, audit_keys.keys_for(settings))
        assert report.ok, report.problem
        assert report.records == ROWS_PER_TABLE + 1  # the old, unchained records were chained by the append
    finally:
        database.dispose()


def _seed(connection: Connection, table: str) -> int:
    columns = sa.inspect(connection).get_columns(table)
    head = Base.metadata.tables.get(table)
    foreign = _foreign_targets(connection, table)
    for n in range(1, ROWS_PER_TABLE + 1):
        values: dict[str, Any] = {}
        for column in columns:
            name = column["name"]
            if name in foreign:
                values[name] = foreign[name][(n - 1) % len(foreign[name])] if foreign[name] else None
            elif not column["nullable"] and column.get("default") is None and not _generated_id(column):
                values[name] = _value(table, name, head.c[name].type if head is not None else column["type"], n)
        typed = [sa.column(k, head.c[k].type if head is not None and k in head.c else None) for k in values]
        connection.execute(sa.table(table, *typed).insert().values(values))
    return ROWS_PER_TABLE


def _generated_id(column: dict[str, Any]) -> bool:
    return bool(
        column.get("autoincrement") is True or (column["name"] == "id" and isinstance(column["type"], sa.Integer))
    )


def _foreign_targets(connection: Connection, table: str) -> dict[str, list[Any]]:
    """Each foreign-key column and the ids it may point at (the n-th row of a table points at the n-th)."""
    targets = {}
    for key in sa.inspect(connection).get_foreign_keys(table):
        for local, remote in zip(key["constrained_columns"], key["referred_columns"], strict=True):
            ref = sa.table(key["referred_table"], sa.column(remote))
            targets[local] = list(connection.scalars(sa.select(ref.c[remote]).order_by(ref.c[remote])))
    return targets


def _value(table: str, column: str, kind: Any, n: int) -> Any:
    if isinstance(kind, sa.Enum):
        return kind.enums[0]
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl if not isinstance(kind.impl, type) else kind.impl()
    if isinstance(kind, sa.DateTime):
        return datetime.now(UTC)
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return n
    if isinstance(kind, sa.Numeric | sa.Float):
        return Decimal(n) if isinstance(kind, sa.Numeric) and kind.asdecimal else float(n)
    if isinstance(kind, sa.LargeBinary):
        return b"\x00" * 4
    if isinstance(kind, sa.JSON):
        return {}
    text = f"{table}-{column}-{n}"
    length = getattr(kind, "length", None)
    return text[-length:] if length else text
