"""Authentication by API key records the key's last use after the request's own transaction
commits — not when a SAVEPOINT inside it is released, while the request still holds the write lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiraga.audit import keys as audit_keys
from hiraga.identity import api_keys, directory
from hiraga.identity.principal import Principal
from hiraga.settings import load_settings
from hiraga.spine.authenticate import from_bearer
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import ApiKey, Organisation

ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path}/auth.db"
    migrate.upgrade(url)
    database = Database(url)
    audit_keys.bind(database.engine, load_settings(data_dir=tmp_path, secret_key="k" * 40))
    return database


def test_last_use_is_recorded_after_a_request_that_used_a_savepoint(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with database.session() as db:
        user = directory.create_user(db, ROOT, email="a@example.jp", password=None)
        issued = api_keys.issue_key(db, ROOT.principal, user.id, "main", 30)
    with database.session() as db:  # one request: authenticate, write in a savepoint, commit
        assert from_bearer(db, f"Bearer {issued.secret}") is not None
        with db.begin_nested():
            db.add(Organisation(name="組織"))
    with database.session() as db:
        assert db.get(ApiKey, issued.row.id).last_used_at is not None  # type: ignore[union-attr]
    assert "could not record last use" not in caplog.text
    database.dispose()
