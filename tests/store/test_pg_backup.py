"""The scale-out backup of docs/operations.md: ``pg_dump --format=custom`` and ``pg_restore`` into an
empty database, with the same flags as the guide; the restored instance passes ``hiraga audit verify``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hiraga.audit import keys as audit_keys
from hiraga.cli.main import cli
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from postgres_support import fresh_databases

ROOT = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))
SECRET = "pg-backup-" + "s7" * 20
DUMP = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
RESTORE = ["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges"]

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL client tools")


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    with fresh_databases("hiraga_pgbackup", 2) as urls:
        live, restored = (url.replace("postgresql+psycopg://", "postgresql://") for url in urls)
        yield live, restored


def test_pg_dump_and_restore_give_an_instance_that_verifies(two_databases: tuple[str, str], tmp_path: Path) -> None:
    live, restored = two_databases
    migrate.upgrade(live)
    settings = load_settings(data_dir=tmp_path / "live", database_url=live, secret_key=SECRET)
    database = Database(live)
    audit_keys.bind(database.engine, settings)
    try:
        with database.session() as db:
            for n in range(3):
                directory.create_user(db, ROOT, email=f"user{n}@city.example.lg.jp", password=None)
    finally:
        database.dispose()
    dump = tmp_path / "hiraga.dump"
    subprocess.run([*DUMP, "--file", str(dump), live], check=True, timeout=120)
    subprocess.run([*RESTORE, "--dbname", restored, str(dump)], check=True, timeout=120)
    env = {"HIRAGA_DATABASE_URL": restored, "HIRAGA_SECRET_KEY": SECRET, "HIRAGA_CONFIG": None}
    result = CliRunner().invoke(cli, ["audit", "verify", "--no-seal", "--data-dir", str(tmp_path / "r")], env=env)
    assert result.exit_code == 0, result.output
    assert "記録 3 件" in result.output
    wrong = CliRunner().invoke(
        cli,
        ["audit", "verify", "--no-seal", "--data-dir", str(tmp_path / "r")],
        env=env | {"HIRAGA_SECRET_KEY": "another-" + "k2" * 20},
    )
    assert wrong.exit_code == 2  # the chain is bound to the secret key: restore it with the database
