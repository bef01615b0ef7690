"""Shared fixtures. Every test that touches storage runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``HIRAGA_TEST_POSTGRES_URL`` (default: the machine's server at
127.0.0.1:5432, user postgres, trust auth); each test session gets a fresh database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.audit import keys as audit_keys
from hiraga.identity import passwords
from hiraga.settings import Settings, load_settings
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import Base
from postgres_support import POSTGRES_ADMIN_URL

BACKENDS = ["sqlite", "postgresql"]

# The cheap argon2 profile for every password the suite hashes, in this process and in the
# `hiraga` processes it starts (tests/identity/test_passwords.py keeps the standard parameters).
os.environ["HIRAGA_PASSWORD_HASHING"] = "test"
passwords.use_hashing_profile("test")


# Session fixtures that load the embedded model: the tests using them are marked ``model`` and run on
# one xdist worker (one load per run, and model tests don't fight each other for the two cores).
MODEL_FIXTURES = {"runtime", "embedder", "packaged_model_path"}
TIERS = ["model and processes", "browser", "unit and integration"]  # also the order tests start in


def tier_of(item: pytest.Item) -> str:
    """The tier a test is reported under (scripts/test prints the test time of each)."""
    if item.get_closest_marker("model") or (item.get_closest_marker("slow") and not item.get_closest_marker("browser")):
        return "model and processes"
    return "browser" if item.get_closest_marker("browser") else "unit and integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark and group the model-bound tests, and start the long ones first so no worker is left
    with a long test at the end of the run."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
        if item.get_closest_marker("model"):
            item.add_marker(pytest.mark.xdist_group("model"))
        item.user_properties.append(("tier", tier_of(item)))
    items.sort(key=lambda item: (not item.get_closest_marker("model"), TIERS.index(tier_of(item))))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"hiraga_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "hiraga.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    reset: PostgresReset = request.getfixturevalue("postgres_reset")
    yield reset.url
    reset.empty_all_tables()


class PostgresReset:
    """Returns the session's PostgreSQL database to empty after a test: deletes the rows of the tables
    that have any (children first; the audit chain's lanes stay) and restarts every sequence.
    Measured on PostgreSQL 15 here: ~10 ms, where a TRUNCATE of all 35 tables took 150-320 ms and
    copying a template database 300-440 ms plus the drop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        # audit_chain_head holds the chain lanes the migrations made (structure, not test data)
        self.tables = [t for t in Base.metadata.sorted_tables if t.name != "audit_chain_head"]
        self.probe = sa.text(
            " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in self.tables)
        )

    def empty_all_tables(self) -> None:
        with self.engine.begin() as connection:
            used = {row[0] for row in connection.execute(self.probe)}
            for table in reversed(self.tables):
                if table.name in used:
                    connection.execute(table.delete())
            connection.execute(sa.text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))


@pytest.fixture(scope="session")
def postgres_reset(postgres_database: str) -> Iterator[PostgresReset]:
    reset = PostgresReset(postgres_database)
    yield reset
    reset.engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data", database_url=database_url, secret_key="test-secret-" + "x1y2z3" * 8
    )


@pytest.fixture
def database(database_url: str, settings: Settings) -> Iterator[Database]:
    """Bound to the settings' audit key, like the app's: services audit administrators' changes."""
    db = Database(database_url)
    audit_keys.bind(db.engine, settings)
    yield db
    db.dispose()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
