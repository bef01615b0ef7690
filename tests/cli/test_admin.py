from __future__ import annotations

from click.testing import CliRunner, Result

from hiraga.cli.main import cli
from hiraga.identity import api_keys, directory, web_sessions
from hiraga.identity.passwords import verify_password
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

from .conftest import CliTarget

PASSWORD = "Shiyakusho-2026!"


def run(target: CliTarget, *words: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, target.args(*words), input=stdin, env=target.env)


def test_db_upgrade_brings_the_database_to_head(target: CliTarget) -> None:
    result = run(target, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "データベースは最新です。" in result.output
    database = Database(target.database_url)
    try:
        assert migrate.is_current(database.engine)
    finally:
        database.dispose()
    assert run(target, "db", "upgrade").exit_code == 0  # idempotent


def test_org_team_user_and_key_from_the_shell(target: CliTarget) -> None:
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    team = run(target, "admin", "create-team", "企画課", "--org", "A市")
    assert team.exit_code == 0 and "A市 / 企画課" in team.output
    user = run(
        target,
        "admin",
        "create-user",
        "Taro@A.example.jp",
        "--password-stdin",
        "--team",
        "企画課",
        "--team-admin",
        stdin=PASSWORD + "\n",
    )
    assert user.exit_code == 0, user.output
    assert "taro@a.example.jp" in user.output
    key = run(target, "admin", "create-key", "taro@a.example.jp", "--name", "バッチ", "--expires-days", "3")
    assert key.exit_code == 0, key.output
    secret = key.stdout.strip()
    database = Database(target.database_url)
    try:
        with database.session() as db:
            row = api_keys.find_usable_key(db, secret)
            assert row is not None and row.name == "バッチ"
            taro = directory.find_user_by_email(db, "taro@a.example.jp")
            assert verify_password(taro.password_hash, PASSWORD)
            assert [(m.team.name, m.role) for m in taro.memberships] == [("企画課", TeamRole.ADMIN)]
            assert secret not in row.digest
    finally:
        database.dispose()


def test_reset_password_ends_sessions(target: CliTarget) -> None:
    run(target, "admin", "create-user", "hanako@a.example.jp", "--password-stdin", stdin=PASSWORD + "\n")
    database = Database(target.database_url)
    try:
        with database.session() as db:
            user = directory.find_user_by_email(db, "hanako@a.example.jp")
            token = web_sessions.start_session(db, user.id, ttl_hours=1)
        result = run(
            target, "admin", "reset-password", "hanako@a.example.jp", "--password-stdin", stdin="Another-pass-77\n"
        )
        assert result.exit_code == 0, result.output
        with database.session() as db:
            assert web_sessions.find_session(db, token) is None
            assert verify_password(
                directory.find_user_by_email(db, "hanako@a.example.jp").password_hash, "Another-pass-77"
            )
    finally:
        database.dispose()


def test_errors_are_japanese_exit_1_and_change_nothing(target: CliTarget) -> None:
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    duplicate = run(target, "admin", "create-org", "A市")
    assert duplicate.exit_code == 1
    assert "エラー [conflict]: 同じ名前の組織が既にあります。" in duplicate.stderr
    assert "Traceback" not in duplicate.output
    weak = run(target, "admin", "create-user", "weak@a.example.jp", "--password-stdin", stdin="password\n")
    assert weak.exit_code == 1
    assert "エラー [weak_password]: パスワードは 12 文字以上にしてください。" in weak.stderr
    no_team = run(
        target, "admin", "create-user", "x@a.example.jp", "--password-stdin", "--team", "無い課", stdin=PASSWORD + "\n"
    )
    assert no_team.exit_code == 1 and "[not_found]" in no_team.stderr
    no_user = run(target, "admin", "create-key", "nobody@a.example.jp")
    assert no_user.exit_code == 1 and "見つかりません" in no_user.stderr
    empty_stdin = run(target, "admin", "create-user", "y@a.example.jp", "--password-stdin", stdin="")
    assert empty_stdin.exit_code != 0 and "パスワード" in empty_stdin.output
    database = Database(target.database_url)
    try:
        with database.session() as db:
            assert directory.count_users(db) == 0  # the failed creations left no user behind
    finally:
        database.dispose()


def test_a_bad_setting_is_one_japanese_line_not_a_traceback(target: CliTarget) -> None:
    env = {**target.env, "HIRAGA_MAX_BODY_BYTES": "abc"}
    result = CliRunner().invoke(cli, target.args("admin", "create-org", "A市"), env=env)
    assert result.exit_code == 2  # configuration errors exit 2 (README: Command line)
    assert "エラー [configuration_error]" in result.output and "HIRAGA_MAX_BODY_BYTES" in result.output
    assert "Traceback" not in result.output and "ValidationError" not in result.output
