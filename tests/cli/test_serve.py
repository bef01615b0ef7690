"""``hiraga serve`` as a real process: the one-time setup URL on first run, and none once a user exists."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hiraga.cli.main import cli
from hiraga.errors import Forbidden
from hiraga.identity import setup
from hiraga.store.database import Database

from .conftest import CliTarget
from .processes import start_serve

pytestmark = pytest.mark.slow
SETUP_URL = re.compile(r"(http://\S+/setup\?token=(\S+))")


def serve_once(target: CliTarget, log: Path) -> str:
    env = {k: v for k, v in target.env.items() if v is not None}
    process = start_serve(target.data_dir, env, log)
    try:
        process.wait_ready()
        found = SETUP_URL.search(process.output())
        if found:
            assert httpx.get(found.group(1)).status_code == 200
        return process.output()
    finally:
        process.stop()


def test_first_run_prints_a_one_time_setup_url(target: CliTarget, tmp_path: Path) -> None:
    first = SETUP_URL.search(serve_once(target, tmp_path / "1.log"))
    assert first, "no setup URL on the first run"
    second = SETUP_URL.search(serve_once(target, tmp_path / "2.log"))
    assert second and second.group(2) != first.group(2)
    database = Database(target.database_url)
    try:
        with database.session() as db:
            # a restart within the start overlap keeps the earlier URL working (replicas starting
            # together); withdrawing older ones is in tests/identity/test_setup.py
            setup.check_setup_token(db, second.group(2))
            setup.check_setup_token(db, first.group(2))
            with pytest.raises(Forbidden, match="セットアップ"):
                setup.check_setup_token(db, first.group(2) + "x")
    finally:
        database.dispose()
    created = CliRunner().invoke(
        cli,
        target.args("admin", "create-user", "first@example.jp", "--password-stdin", "--system-admin"),
        input="Setup-done-2026\n",
        env=target.env,
    )
    assert created.exit_code == 0, created.output
    assert not SETUP_URL.search(serve_once(target, tmp_path / "3.log"))
