"""``hiraga eval leaderboard|compare|pairwise|report|sets|route``: reading results and the administrators'
evaluation commands."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import click

from hiraga.cli.common import data_dir_option, operator_session, reports_errors
from hiraga.evaluation import private_sets, report, routing
from hiraga.evaluation.leaderboard import board, compare
from hiraga.evaluation.pairwise import PairwiseResult, judge_runs
from hiraga.evaluation.service import open_evaluation
from hiraga.identity import directory


@click.command("leaderboard")
@click.option("--suite", default=None, help="スイート名（省略時はすべて）")
@data_dir_option
@reports_errors
def leaderboard_command(suite: str | None, data_dir: Path | None) -> None:
    """スイートごとのモデルのスコア（95% 信頼区間）・費用・遅延を表示します。"""
    with operator_session(data_dir) as (db, scope, _):
        click.echo("suite\tmodel\trun\titems\tfailed\tscore\t95%CI\tJPY/1000\tp50ms\tp95ms")
        for r in board(db, scope, suite):
            click.echo(
                f"{r.suite}\t{r.model}\t{r.run_id}\t{r.items}\t{r.failed}\t{r.score:.3f}\t[{r.low:.3f}, {r.high:.3f}]\t"
                f"{r.cost_per_1000_jpy}\t{r.latency_p50_ms:.0f}\t{r.latency_p95_ms:.0f}"
            )


@click.command("compare")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@data_dir_option
@reports_errors
def compare_command(run_a: int, run_b: int, data_dir: Path | None) -> None:
    """同じスイートの 2 つの実行を比べます（B − A と 95% 信頼区間、下がった項目）。"""
    with operator_session(data_dir) as (db, scope, _):
        found = compare(db, scope, run_a, run_b)
    verdict = "後退（区間が 0 未満）" if found.regression else "有意な後退なし"
    click.echo(
        f"{found.suite}: A={found.mean_a:.3f} B={found.mean_b:.3f} 差={found.difference:+.3f} "
        f"[{found.low:+.3f}, {found.high:+.3f}] 共通 {found.common_items} 件: {verdict}"
    )
    for item in found.worse_items[:20]:
        click.echo(f"  下がった項目: {item}")


@click.command("pairwise")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@data_dir_option
@reports_errors
def pairwise_command(run_a: int, run_b: int, data_dir: Path | None) -> None:
    """審査モデル（HIRAGA_EVAL_JUDGE_MODEL）が 2 つの実行の回答を両方の順番で比べ、B の勝率を表示・保存します。"""
    with operator_session(data_dir) as (_, scope, settings):
        pass

    async def go() -> PairwiseResult:
        async with open_evaluation(settings) as service:
            return await judge_runs(service, scope, run_a, run_b)

    found = asyncio.run(go())
    click.echo(
        f"{found.suite}: B（実行 {found.run_b}）の勝率 {found.b_win_rate:.3f} [{found.low:.3f}, {found.high:.3f}] "
        f"勝 {found.b_wins} 分 {found.ties}（うち順番で判定が入れ替わったもの {found.position_bias}）"
        f" 負 {found.a_wins} 判定不能 {found.judge_errors}（審査: {found.judge}）"
    )
    click.echo(f"比較 {found.id} として保存しました: /eval/compare?a={found.run_a}&b={found.run_b}")


@click.command("report")
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--include-private", is_flag=True, help="非公開テストセットの結果も含める（個人情報は伏せ字）")
@data_dir_option
@reports_errors
def report_command(model: str, fmt: str, include_private: bool, data_dir: Path | None) -> None:
    """モデル開発者向けの評価レポートを出力します。"""
    with operator_session(data_dir) as (db, scope, _):
        found = report.model_report(db, scope, model, include_private=include_private)
    click.echo(json.dumps(found, ensure_ascii=False, indent=2) if fmt == "json" else report.markdown(found))


@click.group("sets")
def sets() -> None:
    """非公開テストセット。"""


@sets.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--team", required=True, help="所有チーム名")
@click.option("--org", default=None, help="組織名（チーム名の区別）")
@click.option("--name", required=True)
@click.option("--classification", type=click.IntRange(1, 3), required=True)
@data_dir_option
@reports_errors
def upload(file: Path, team: str, org: str | None, name: str, classification: int, data_dir: Path | None) -> None:
    """JSONL または CSV のテストセットを登録します（1 件でも誤りがあれば何も登録しません）。"""
    with operator_session(data_dir) as (db, scope, settings), file.open("rb") as handle:
        team_id = directory.find_team(db, team, org).id
        spec = private_sets.SetFile(team_id, name, classification, file.name)
        created = private_sets.upload_file(db, scope, spec, handle, settings.eval_set_max_items)
        click.echo(f"テストセットを登録しました: set:{created.id}（{created.item_count} 件、機密性{classification}）")


@sets.command("list")
@data_dir_option
@reports_errors
def list_sets(data_dir: Path | None) -> None:
    """テストセットの一覧。"""
    with operator_session(data_dir) as (db, scope, _):
        for found in private_sets.visible_sets(db, scope):
            click.echo(
                f"set:{found.id}\t{found.name}\tteam={found.team_id}\t機密性{found.classification}\t{found.item_count}"
            )


@click.command("route")
@click.option("--task", required=True, help="タスク（kouyoubun・summarise・reading・law・generate・safety）")
@click.option("--alias", required=True, help="設定する別名（例: auto-summarise）")
@click.option("--max-cost", type=Decimal, default=None, help="1,000 件あたりの費用の上限（円）")
@click.option("--pin", default=None, help="常に最初に使うモデル")
@data_dir_option
@reports_errors
def route(task: str, alias: str, max_cost: Decimal | None, pin: str | None, data_dir: Path | None) -> None:
    """評価結果からタスク別の別名を設定します（許可されたモデルのうち最も良いものから順に使われます）。"""
    with operator_session(data_dir) as (db, scope, _):
        ranked = routing.ranking(db, scope, task, max_cost)
        view = routing.set_task_route(db, scope, task=task, alias=alias, max_cost_per_1000=max_cost, pin=pin)
    for r in ranked:
        click.echo(json.dumps(asdict(r), ensure_ascii=False, default=str))
    click.echo(f"別名 {view.name}: " + " → ".join(m.endpoint for m in view.members))
