"""``hiraga feedback export|policy``: the operator's tools for feedback datasets (docs/feedback-datasets.md)."""

from __future__ import annotations

from pathlib import Path

import click

from hiraga.cli.common import data_dir_option, operator_session, reports_errors
from hiraga.feedback_data import export as exports
from hiraga.feedback_data import policy
from hiraga.identity import directory


@click.group()
def feedback() -> None:
    """利用者の評価から作る学習データ（方針の設定・書き出し）。"""


@feedback.command("export")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--team", default=None, help="チーム名（省略時はすべてのチーム）")
@click.option("--model", default=None, help="回答したモデル名で絞り込む")
@click.option(
    "--task", default=None, help="業務で絞り込む（chat, summarise, generate, proofread, translate, rag_qa, arena）"
)
@click.option("--since", default=None, help="この日（日本時間、YYYY-MM-DD）以降の回答")
@click.option("--until", default=None, help="この日（日本時間、YYYY-MM-DD）までの回答")
@data_dir_option
@reports_errors
def export_command(
    out: Path,
    team: str | None,
    model: str | None,
    task: str | None,
    since: str | None,
    until: str | None,
    data_dir: Path | None,
) -> None:
    """承認済みの評価データを新しいフォルダ OUT に書き出します（SFT・DPO・KTO の JSONL と README.md）。"""
    with operator_session(data_dir) as (db, scope, _settings):
        team_id = directory.find_team(db, team).id if team else None
        filters = exports.ExportFilter(
            team_id, model, task, exports.day(since, "since"), exports.day(until, "until", end=True)
        )
        summary = exports.export(db, scope, filters, out)
    rows = "、".join(f"{exports.FILES[name]} {summary.rows[name]:,} 行" for name in exports.FILES)
    click.echo(f"書き出しました: {out}（項目 {summary.items:,} 件: {rows}）")


@feedback.command("policy")
@click.argument("team")
@click.option("--training-use/--no-training-use", default=None, help="学習データとしての提供を許可する／しない")
@click.option("--max-classification", type=click.IntRange(1, 3), default=None, help="提供してよい機密性（以下）")
@click.option("--licence", default=None, help="データカードに書くライセンス（例: CC-BY-4.0）")
@data_dir_option
@reports_errors
def policy_command(
    team: str,
    training_use: bool | None,
    max_classification: int | None,
    licence: str | None,
    data_dir: Path | None,
) -> None:
    """チームの提供方針を表示し、オプションがあれば変更します。"""
    with operator_session(data_dir) as (db, scope, _settings):
        team_id = directory.find_team(db, team).id
        current = policy.policy_of(db, team_id)
        if training_use is not None or max_classification is not None or licence is not None:
            current = policy.set_policy(
                db,
                scope,
                team_id,
                current.training_use if training_use is None else training_use,
                max_classification or current.max_classification,
                current.licence if licence is None else licence,
            )
        click.echo(f"{team}: {current.describe()}（ライセンス: {current.licence or '未設定'}）")
