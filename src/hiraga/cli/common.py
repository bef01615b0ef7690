"""Helpers shared by CLI commands: settings from options, a system-admin scope, error output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hiraga.audit import keys as audit_keys
from hiraga.errors import ConfigurationError, HiragaError
from hiraga.identity.passwords import use_hashing_profile
from hiraga.identity.principal import Principal
from hiraga.settings import Settings, load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database

F = TypeVar("F", bound=Callable[..., Any])

CLI_OPERATOR = Principal(
    user_id=0, email="cli@localhost", display_name="CLI", is_system_admin=True, via="cli", client_address="local"
)


def settings_for(data_dir: Path | None, *, create_data_dir: bool = False) -> Settings:
    """Settings for a command; only ``serve`` and ``db upgrade`` create a missing data directory."""
    if data_dir is not None:
        os.environ["HIRAGA_DATA_DIR"] = str(data_dir)  # child processes (workers) see it too
    settings = load_settings(create_data_dir=create_data_dir)
    use_hashing_profile(settings.password_hashing, environment=settings.environment)
    return settings


@contextmanager
def operator_session(data_dir: Path | None = None) -> Iterator[tuple[Session, AccessScope, Settings]]:
    settings = settings_for(data_dir)
    migrate.upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    audit_keys.bind(database.engine, settings)  # administrators' changes are audited (hiraga.audit.events)
    try:
        with database.session() as session:
            yield session, AccessScope(CLI_OPERATOR), settings
    finally:
        database.dispose()


EXIT_ERROR, EXIT_CONFIGURATION, EXIT_DATABASE = 1, 2, 3  # documented in README (Command line)


def reports_errors(func: F) -> F:
    """Print errors an operator can fix as one Japanese line on stderr, instead of a traceback:
    exit 2 for the configuration, 3 for a database that cannot be reached, 1 for the rest."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigurationError as exc:
            click.echo(f"設定エラー [{exc.code}]: {exc.message}", err=True)
            sys.exit(EXIT_CONFIGURATION)
        except HiragaError as exc:
            click.echo(f"エラー [{exc.code}]: {exc.message}", err=True)
            sys.exit(EXIT_ERROR)
        except OperationalError as exc:
            click.echo(
                "データベースに接続できません。HIRAGA_DATABASE_URL と、データベースが起動しているか"
                f"（ネットワーク・認証）を確認してください。詳細: {str(exc.orig).strip().splitlines()[0][:200]}",
                err=True,
            )
            sys.exit(EXIT_DATABASE)

    return wrapper  # type: ignore[return-value]


def read_password_stdin() -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise click.UsageError("標準入力からパスワードを読み取れませんでした。")
    return value


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="データディレクトリ（HIRAGA_DATA_DIR）",
)
