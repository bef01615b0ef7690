"""``hiraga eval``: a run against a model behind the stub prints the table with intervals; the
leaderboard, the report and a private set from the shell; a finished run is not run again."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner, Result

from hiraga.cli.main import cli

from .conftest import CliTarget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_stub import StubUpstream


def run(target: CliTarget, *words: str) -> Result:
    env = target.env | {"HIRAGA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1"}
    return CliRunner().invoke(cli, target.args(*words), env=env)


def test_eval_run_prints_scores_with_intervals_and_the_results_stay(target: CliTarget, tmp_path: Path) -> None:
    stub = StubUpstream().start()
    stub.responder = lambda body: "申し訳ありませんが、お答えできません。"
    listed = CliRunner().invoke(cli, ["eval", "suites"])
    assert {"safety", "reading", "law-citations"} <= {line.split("\t")[0] for line in listed.output.splitlines()}
    added = run(
        target,
        "models",
        "add",
        "stub",
        "--base-url",
        stub.base_url,
        "--upstream-model",
        "m",
        "--internal",
        "--all-teams",
    )
    assert added.exit_code == 0, added.output
    done = run(target, "eval", "run", "--suite", "safety", "--models", "stub", "--limit", "3", "--concurrency", "2")
    assert done.exit_code == 0, done.output
    table = [line.split("\t") for line in done.stdout.splitlines()]
    assert table[0][:4] == ["run", "suite", "model", "state"]
    run_id, suite, model, state, items, failed, score, interval = table[1][:8]
    assert (suite, model, state, items, failed, score) == ("safety", "stub", "completed", "3", "0", "1.000")
    assert interval == "[1.000, 1.000]" and len(stub.chat_requests()) == 3
    board = run(target, "eval", "leaderboard")
    assert f"safety\tstub\t{run_id}\t3" in board.output
    report = run(target, "eval", "report", "stub")
    assert "# 評価レポート: stub" in report.output
    again = run(target, "eval", "resume", run_id)
    assert again.exit_code == 1 and "再開できる状態ではありません" in again.output
    assert len(stub.chat_requests()) == 3


def test_eval_sets_upload_refuses_a_bad_file_naming_the_line(target: CliTarget, tmp_path: Path) -> None:
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    assert run(target, "admin", "create-team", "企画課", "--org", "A市").exit_code == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "scorer": "contains", "reference": "b"}\n{"prompt": "c", "scorer": "bleu"}\n')
    refused = run(
        target, "eval", "sets", "upload", str(bad), "--team", "企画課", "--name", "窓口", "--classification", "2"
    )
    assert refused.exit_code == 1 and "2 行目" in refused.output and "eval_unknown_scorer" in refused.output
    good = tmp_path / "good.csv"
    good.write_text("prompt,reference,scorer\n首都は？,東京,contains\n", encoding="utf-8")
    stored = run(
        target, "eval", "sets", "upload", str(good), "--team", "企画課", "--name", "窓口", "--classification", "2"
    )
    assert stored.exit_code == 0 and "1 件" in stored.output
    assert "窓口" in run(target, "eval", "sets", "list").output
