from __future__ import annotations

from click.testing import CliRunner, Result

from hiraga.cli.main import cli

from .conftest import CliTarget


def run(target: CliTarget, *words: str) -> Result:
    return CliRunner().invoke(cli, target.args(*words), env=target.env)


def test_limits_add_list_remove(target: CliTarget) -> None:
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    assert run(target, "admin", "create-team", "企画課", "--org", "A市").exit_code == 0
    added = run(
        target, "limits", "add", "--team", "企画課", "--metric", "cost_jpy", "--window", "month", "--amount", "5000"
    )
    assert added.exit_code == 0, added.output
    listed = run(target, "limits", "list")
    assert "cost_jpy/month" in listed.output and "5000" in listed.output
    again = run(
        target, "limits", "add", "--team", "企画課", "--metric", "cost_jpy", "--window", "month", "--amount", "1"
    )
    assert again.exit_code == 1 and "既にあります" in again.output
    limit_id = listed.output.split("\t", 1)[0]
    assert run(target, "limits", "remove", limit_id).exit_code == 0
    assert run(target, "limits", "list").output.strip() == ""


def test_limits_add_needs_exactly_one_subject(target: CliTarget) -> None:
    neither = run(target, "limits", "add", "--metric", "tokens", "--window", "day", "--amount", "1")
    assert neither.exit_code != 0 and "--team か --user" in neither.output
    unknown = run(target, "limits", "add", "--team", "無い課", "--metric", "tokens", "--window", "day", "--amount", "1")
    assert unknown.exit_code == 1 and "見つかりません" in unknown.output
