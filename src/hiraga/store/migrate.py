"""Alembic, driven from code: no alembic.ini is needed at run time."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from hiraga.store.database import normalise_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate; processes migrating one database at once take turns (PostgreSQL: an advisory lock in
    migrations/env.py; SQLite, whose DDL is not transactional here: a file lock beside the database)."""
    with _sqlite_migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


@contextmanager
def _sqlite_migration_lock(database_url: str) -> Iterator[None]:
    url = normalise_url(database_url)
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        yield
        return
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cache
def _scripts() -> ScriptDirectory:
    """The migration scripts this code ships (they never change while it runs; readiness asks often)."""
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revisions() -> set[str]:
    return set(_scripts().get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def known_revisions() -> set[str]:
    """Every revision this version of hiraga ships."""
    return {script.revision for script in _scripts().walk_revisions()}


def is_current(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()


class SchemaState(StrEnum):
    CURRENT = "ok"  # the database is at this code's head
    NEWER = "newer"  # a newer hiraga migrated it (a rolling upgrade): migrations are additive, so this code works
    PENDING = "pending"  # behind this code (or empty): run ``hiraga db upgrade``


def schema_state(engine: Engine) -> SchemaState:
    current = current_revisions(engine)
    if current == head_revisions():
        return SchemaState.CURRENT
    if current and not current <= known_revisions():
        return SchemaState.NEWER
    return SchemaState.PENDING
