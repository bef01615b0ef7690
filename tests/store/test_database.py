from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import Organisation

ROOT = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))


class Boom(Exception):
    pass


def test_a_failed_unit_of_work_rolls_back_rows_written_inside_a_savepoint(database: Database) -> None:
    """directory inserts inside SAVEPOINTs; on SQLite a released first savepoint once committed for good."""
    with pytest.raises(Boom), database.session() as db:
        directory.create_organisation(db, ROOT, "消える組織")
        raise Boom()
    with database.session() as db:
        assert db.scalar(select(func.count(Organisation.id))) == 0


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database: Database) -> None:
    if not database.url.startswith("sqlite"):
        pytest.skip("SQLite pragmas")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
