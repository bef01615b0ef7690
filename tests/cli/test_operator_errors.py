"""Operator mistakes get one Japanese line and an exit code, never a traceback: a data dir that is
a file, a broken or misspelt TOML file, a misspelt HIRAGA_* variable (2), an unreachable database
(3); administrators' commands do not create a SQLite data dir that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hiraga.cli.main import cli

CLEAN = {"HIRAGA_DATA_DIR": None, "HIRAGA_CONFIG": None, "HIRAGA_DATABASE_URL": None, "HIRAGA_SECRET_KEY": None}


def run(args: list[str], **env: str | None) -> Result:
    return CliRunner().invoke(cli, args, env={**CLEAN, **env})


def refused(result: Result, code: int, words: str) -> None:
    assert result.exit_code == code, result.output
    assert words in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_data_dir_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "data"
    afile.write_text("not a directory")
    refused(run(["db", "upgrade"], HIRAGA_DATA_DIR=str(afile)), 2, "はファイルです")


def test_a_broken_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "hiraga.toml"
    config.write_text('base_url = "http://x\n', encoding="utf-8")
    refused(
        run(["db", "upgrade", "--data-dir", str(tmp_path / "d")], HIRAGA_CONFIG=str(config)), 2, "TOML として読めません"
    )


def test_misspelt_settings_are_named_with_the_likely_one(tmp_path: Path) -> None:
    config = tmp_path / "hiraga.toml"
    config.write_text('databse_url = "sqlite:///x.db"\n', encoding="utf-8")
    result = run(["db", "upgrade", "--data-dir", str(tmp_path / "d")], HIRAGA_CONFIG=str(config))
    refused(result, 2, "「databse_url」は設定項目にありません")
    assert "database_url" in result.output
    env = run(["db", "upgrade", "--data-dir", str(tmp_path / "d")], HIRAGA_ALLOWED_UPSTREAM_HOST="x")
    refused(env, 2, "HIRAGA_ALLOWED_UPSTREAM_HOSTS")


def test_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:9/hiraga?connect_timeout=2"
    refused(
        run(["db", "upgrade", "--data-dir", str(tmp_path / "d")], HIRAGA_DATABASE_URL=url),
        3,
        "データベースに接続できません",
    )


@pytest.mark.parametrize("command", [["admin", "create-org", "さくら市"], ["models", "list"]])
def test_admin_commands_do_not_create_a_missing_data_dir(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "typo-data"
    refused(run([*command, "--data-dir", str(missing)]), 2, "がありません")
    assert not missing.exists()
