"""Where the test PostgreSQL server is (shared by conftest.py and the tests that start processes)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get("HIRAGA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_databases(prefix: str, count: int = 1) -> Iterator[list[str]]:
    """``count`` new, empty databases on the test server (dropped afterwards), for tests that migrate
    or restore into an empty database or start processes on one."""
    names = [f"{prefix}_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield [POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name for name in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
