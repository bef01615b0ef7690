"""Alembic, driven from code: no alembic.ini is needed at run time."""

from __future__ import annotations

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
    command.upgrade(alembic_config(database_url), revision)


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
