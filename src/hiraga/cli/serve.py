"""``hiraga serve`` and ``hiraga db upgrade``."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn

from hiraga.cli import worker_pool
from hiraga.cli.common import data_dir_option, reports_errors, settings_for
from hiraga.identity.setup import issue_setup_token
from hiraga.settings import Settings
from hiraga.store import migrate
from hiraga.store.database import Database

# uvicorn believes forwarded headers from nobody (whatever FORWARDED_ALLOW_IPS says): the app's
# ClientAddress middleware applies HIRAGA_TRUSTED_PROXIES, the one rule for the client's address.
PROXY_OPTIONS: dict[str, Any] = {"proxy_headers": False, "forwarded_allow_ips": ""}


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--migrate/--no-migrate",
    "migrate_on_start",
    default=True,
    show_default=True,
    help="起動時にマイグレーションを適用する（コンテナでは移行 Job に任せて --no-migrate）",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="リクエストを 1 行ずつ記録する")
@data_dir_option
@reports_errors
def serve(host: str, port: int, workers: int, migrate_on_start: bool, access_log: bool, data_dir: Path | None) -> None:
    """Web サーバーを起動します（既定ではマイグレーションも適用）。"""
    if access_log:
        os.environ["HIRAGA_ACCESS_LOG"] = "true"  # the app factory (each worker) reads it
    settings = settings_for(data_dir, create_data_dir=True)
    worker_pool.ensure_port_free(host, port)
    if migrate_on_start:
        migrate.upgrade(settings.effective_database_url)
    public = public_url(settings, host, port)
    if _schema_ready(settings.effective_database_url):
        _announce_setup_url(settings.effective_database_url, public)
    click.echo(f"hiraga: {public}/ （データ: {settings.data_dir}）")
    options: dict[str, Any] = {
        "app": "hiraga.app:create_app",
        "factory": True,
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # hiraga's own AccessLog (web/access_log.py) writes the line, without query strings
        "http": "httptools" if _installed("httptools") else "auto",
        "loop": "uvloop" if _installed("uvloop") else "auto",
        "server_header": False,
        **_uvicorn_options(settings.log_format),
    }
    if workers > 1 and worker_pool.spreads_connections():
        sys.exit(worker_pool.WorkerPool(options, workers).run())  # a listening socket per worker
    uvicorn.run(**options, workers=workers)


def _schema_ready(database_url: str) -> bool:
    """Without migrating, say plainly when the database is behind: /readyz stays 503 until it is not."""
    database = Database(database_url)
    try:
        state = migrate.schema_state(database.engine)
    except Exception as error:  # unreachable: serve anyway, /readyz reports it
        click.echo(
            f"hiraga: データベースに接続できません（{type(error).__name__}）。/readyz は 503 を返します。", err=True
        )
        return False
    finally:
        database.dispose()
    if state is migrate.SchemaState.PENDING:
        click.echo(
            "hiraga: データベースのスキーマが最新ではありません。hiraga db upgrade（移行 Job）を実行してください。"
            "それまで /readyz は 503 を返します。",
            err=True,
        )
        return False
    return True


def _uvicorn_options(log_format: str) -> dict[str, Any]:
    options = dict(PROXY_OPTIONS)
    if log_format == "json":  # uvicorn's own loggers go through hiraga's JSON handler (hiraga.logs)
        options["log_config"] = None
    return options


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def public_url(settings: Settings, host: str, port: int) -> str:
    """Where a browser reaches this process: HIRAGA_BASE_URL when the operator set it (a proxy in
    front), else the host and port actually served (a wildcard host is shown as 127.0.0.1)."""
    if "base_url" in settings.model_fields_set:
        return settings.base_url.rstrip("/")
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _announce_setup_url(database_url: str, base_url: str) -> None:
    database = Database(database_url)
    try:
        with database.session() as session:
            token = issue_setup_token(session)
    finally:
        database.dispose()
    if token:
        click.echo("最初のシステム管理者を作成してください（1 回限りの URL）:")
        click.echo(f"  {base_url.rstrip('/')}/setup?token={token}")


@click.group()
def db() -> None:
    """データベースの管理。"""


@db.command("upgrade")
@data_dir_option
@reports_errors
def db_upgrade(data_dir: Path | None) -> None:
    """マイグレーションを最新まで適用します。"""
    settings = settings_for(data_dir, create_data_dir=True)
    migrate.upgrade(settings.effective_database_url)
    click.echo("データベースは最新です。")
