"""A database whose engine carries the audit chain key, and a helper that appends records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from audit_support import Append, record
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_world import settings, stub, world  # noqa: F401  (fixtures: the real gateway's world)

from hiraga.audit import chain, keys
from hiraga.audit.keys import AuditKeys
from hiraga.cli.main import cli
from hiraga.settings import Settings
from hiraga.store.database import Database


@pytest.fixture
def audit_keys(settings: Settings, database: Database) -> AuditKeys:  # noqa: F811
    keys.bind(database.engine, settings)
    return keys.keys_for(settings)


@pytest.fixture
def append(database: Database, audit_keys: AuditKeys) -> Append:
    """``append(count, start=0, **fields)``: that many records, each in the chain; their ids."""

    def write(count: int, start: int = 0, **fields: Any) -> list[int]:
        with database.engine.begin() as connection:
            rows = chain.append(connection, [record(start + i, **fields) for i in range(count)])
            assert rows
        with database.engine.connect() as connection:
            ids = connection.execute(
                chain.AUDIT.select().with_only_columns(chain.AUDIT.c.id).order_by(chain.AUDIT.c.id.desc()).limit(count)
            ).scalars()
            return sorted(int(i) for i in ids)

    return write


@pytest.fixture
def run(settings: Settings, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]  # noqa: F811
    """``run("verify", ...)``: ``hiraga audit ...`` against the test database with the test secret."""
    monkeypatch.setenv("HIRAGA_DATABASE_URL", database_url)
    monkeypatch.setenv("HIRAGA_SECRET_KEY", settings.secret())

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["audit", *args, "--data-dir", str(tmp_path / "data")])

    return invoke
