"""The one-time setup token: safe when processes start together, withdrawn by a later start, gone after setup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hiraga.errors import Forbidden
from hiraga.identity import directory, setup
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database

OPERATOR = AccessScope(Principal(user_id=0, email="op@localhost", display_name="op", is_system_admin=True))
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_two_processes_issuing_at_once_both_commit_and_both_urls_work(postgres_database: str) -> None:
    """Two starts on one fresh PostgreSQL database, interleaved inside their transactions (the
    scale-out race; SQLite writers take the database lock first, so they cannot interleave)."""
    database = Database(postgres_database)
    try:
        with database.session() as first, database.session() as second:
            second.execute(sa.text("SET LOCAL lock_timeout = '5s'"))  # a collision fails instead of waiting
            token_a = setup.issue_setup_token(first, now=T0)
            token_b = setup.issue_setup_token(second, now=T0 + timedelta(seconds=1))
        assert token_a and token_b and token_a != token_b
        with database.session() as db:
            setup.check_setup_token(db, token_a)
            setup.check_setup_token(db, token_b)
            setup.consume_setup_token(db)
    finally:
        database.dispose()


def test_starts_one_after_another_each_print_a_working_url(database: Database) -> None:
    with database.session() as db:
        token_a = setup.issue_setup_token(db, now=T0)
    with database.session() as db:
        token_b = setup.issue_setup_token(db, now=T0 + timedelta(seconds=1))
    assert token_a and token_b and token_a != token_b
    with database.session() as db:
        setup.check_setup_token(db, token_a)
        setup.check_setup_token(db, token_b)


def test_a_later_start_withdraws_urls_printed_before_the_overlap(database: Database) -> None:
    with database.session() as db:
        old = setup.issue_setup_token(db, now=T0)
    with database.session() as db:
        recent = setup.issue_setup_token(db, now=T0 + setup.START_OVERLAP - timedelta(seconds=1))
    with database.session() as db:
        newest = setup.issue_setup_token(db, now=T0 + setup.START_OVERLAP + timedelta(seconds=1))
    assert old and recent and newest
    with database.session() as db:
        setup.check_setup_token(db, recent)
        setup.check_setup_token(db, newest)
        with pytest.raises(Forbidden) as refused:
            setup.check_setup_token(db, old)
    assert refused.value.code == "setup_token_invalid"


def test_setup_consumes_every_token_and_none_is_issued_once_a_user_exists(database: Database) -> None:
    with database.session() as db:
        tokens = [setup.issue_setup_token(db, now=T0), setup.issue_setup_token(db, now=T0)]
    with database.session() as db:
        setup.consume_setup_token(db)
        directory.create_user(db, OPERATOR, email="first@example.go.jp", password="Setup-done-2026")
    with database.session() as db:
        assert setup.issue_setup_token(db) is None
        for token in tokens:
            assert token
            with pytest.raises(Forbidden):
                setup.check_setup_token(db, token)
