"""``hiraga apps`` against a real database (both backends) and the reference app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_world import ReferenceApp, World, form_definition
from click.testing import CliRunner

from hiraga.cli.main import cli
from hiraga.store.database import Database
from hiraga.store.tables import RegisteredApp


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "HIRAGA_DATA_DIR": str(tmp_path / "cli-data"),
        "HIRAGA_DATABASE_URL": database_url,
        "HIRAGA_SECRET_KEY": "test-secret-" + "x1y2z3" * 8,
        "HIRAGA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",
    }


def test_add_list_publish_test_disable_rm(
    env: dict[str, str], tmp_path: Path, database: Database, world: World, reference_app: ReferenceApp
):
    form = tmp_path / "form.json"
    form.write_text(json.dumps(form_definition(), ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    add = [
        "apps", "add", "cli-app", "--name", "CLI アプリ", "--url", reference_app.url("sync"), "--form", str(form),
        "--owner-team", "企画課", "--publish-to", "企画課", "--api-key-stdin",
    ]  # fmt: skip
    added = runner.invoke(cli, add, input=reference_app.key + "\n", env=env)
    assert added.exit_code == 0, added.output
    with database.session() as db:
        stored = db.query(RegisteredApp).one()
        assert stored.status == "draft" and reference_app.key not in (stored.api_key_encrypted or "")
    assert runner.invoke(cli, ["apps", "publish", "cli-app"], env=env).exit_code == 0
    listed = runner.invoke(cli, ["apps", "list"], env=env)
    assert "cli-app\tpublished\tsync" in listed.output
    tested = runner.invoke(cli, ["apps", "test", "cli-app", "--input", "input_text=試験"], env=env)
    assert tested.exit_code == 0 and "試験" in tested.output
    assert runner.invoke(cli, ["apps", "disable", "cli-app"], env=env).exit_code == 0
    assert runner.invoke(cli, ["apps", "rm", "cli-app"], env=env).exit_code == 0
    assert runner.invoke(cli, ["apps", "list"], env=env).output.strip() == ""


def test_bad_definitions_and_missing_apps_fail_in_japanese(env: dict[str, str], tmp_path: Path, world: World):
    form = tmp_path / "form.json"
    form.write_text('{"q": {"type": "number", "title": "q", "min": 3, "max": 1}}', encoding="utf-8")
    args = ["apps", "add", "x-app", "--name", "x", "--url", "http://127.0.0.1:9/x", "--form", str(form)]
    result = CliRunner().invoke(cli, [*args, "--owner-team", "企画課"], env=env)
    assert result.exit_code == 1 and "最小値が最大値より大きく" in result.output
    missing = CliRunner().invoke(cli, ["apps", "publish", "nothing"], env=env)
    assert missing.exit_code == 1 and "見つかりません" in missing.output
