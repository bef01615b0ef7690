"""``hiraga audit verify|anchor|export|prune``: the operator's tools for the audit log."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hiraga.audit import anchors, checkpoints, export, query
from hiraga.audit.keys import AuditKeys, keys_for
from hiraga.audit.retention import RetentionPolicy, prune
from hiraga.audit.verify import verify_chain
from hiraga.cli.common import CLI_OPERATOR, data_dir_option, reports_errors, settings_for
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database


@click.group()
def audit() -> None:
    """監査ログの検証・書き出し・保存期間による削除。"""


def _open(data_dir: Path | None) -> tuple[Database, AuditKeys, Settings]:
    settings = settings_for(data_dir)
    migrate.upgrade(settings.effective_database_url)
    return Database(settings.effective_database_url), keys_for(settings), settings


ANCHOR_FILE = click.option(
    "--anchor-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="アンカーファイル（省略時は HIRAGA_AUDIT_ANCHOR_FILE。syslog から集めた行のファイルも可）",
)


@audit.command("verify")
@click.option("--seal/--no-seal", default=True, help="検証できたら末尾に署名付きの印（シール）を残す")
@ANCHOR_FILE
@data_dir_option
@reports_errors
def verify(seal: bool, anchor_file: Path | None, data_dir: Path | None) -> None:
    """チェーンを検証し、改ざん・挿入・削除（アンカー以降の末尾の削除を含む）があれば最初の問題を示します。"""
    database, keys, settings = _open(data_dir)
    anchor_file = anchor_file or settings.audit_anchor_file
    anchored = 0
    try:
        with database.engine.begin() as connection:
            report = verify_chain(connection, keys)
            if report.ok and anchor_file is not None:
                anchored, report.problem = anchors.verify_anchors(connection, keys.anchor, anchor_file)
            if report.ok and seal and report.last_id is not None:
                checkpoints.seal(connection, report.heads, keys.checkpoint)
    finally:
        database.dispose()
    summary = (
        f"記録 {report.records} 件（レーン {len(report.heads)}）、削除済み {report.pruned} 件（チェックポイント）"
        f"、シール {report.seals} 件"
    )
    summary += f"、アンカー {anchored} 件" if anchor_file is not None else "（アンカーなし）"
    if report.problem is None:
        click.echo(f"OK: 監査ログは改ざんされていません。{summary}。末尾 {report.last_id} {report.tip}")
        return
    where = f"記録 {report.problem.record_id}" if report.problem.record_id is not None else "チェックポイント"
    if report.problem.checkpoint_id is not None:
        where += f"（チェックポイント {report.problem.checkpoint_id}）"
    click.echo(f"NG: {where}: {report.problem.message} [{report.problem.code}]（それまでに{summary}）", err=True)
    sys.exit(2)


@audit.command("anchor")
@ANCHOR_FILE
@data_dir_option
@reports_errors
def anchor(anchor_file: Path | None, data_dir: Path | None) -> None:
    """チェーンの末尾（最新の記録とハッシュ）を署名してアンカーファイル・syslog に追記します。"""
    database, keys, settings = _open(data_dir)
    try:
        with database.engine.connect() as connection:
            written = anchors.write_anchor(connection, keys.anchor, anchors.Sinks.of(settings, anchor_file))
    finally:
        database.dispose()
    if written is None:
        click.echo("監査記録がまだないため、アンカーは書きませんでした。")
        return
    click.echo(f"アンカーを書きました: 記録 {written.through_id} {written.through_hash}（{written.at}）")


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl")
@click.option("--since", type=click.DateTime(), default=None, help="この日時以降（UTC）")
@click.option("--until", type=click.DateTime(), default=None, help="この日時より前（UTC）")
@click.option("--team-id", type=int, default=None)
@click.option("--user-id", type=int, default=None)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="出力先（省略時は標準出力）"
)
@data_dir_option
@reports_errors
def export_records(
    fmt: export.Format,
    since: datetime | None,
    until: datetime | None,
    team_id: int | None,
    user_id: int | None,
    output: Path | None,
    data_dir: Path | None,
) -> None:
    """監査記録を古い順に書き出します。"""
    database, _, _ = _open(data_dir)
    wanted = query.AuditFilter(
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
        team_id=team_id,
        user_id=user_id,
    )
    where = query.conditions(AccessScope(CLI_OPERATOR), wanted)
    try:
        with database.engine.connect() as connection:
            target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                for line in export.lines(query.walk_records(connection, where), fmt):
                    target.write(line)
            finally:
                if output:
                    target.close()
    finally:
        database.dispose()


def _policy(rules: tuple[str, ...]) -> RetentionPolicy:
    days: dict[str, int] = {}
    for rule in rules:
        action, _, value = rule.partition("=")
        if not action or not value.isdigit():
            raise click.UsageError(f"--keep は 種類=日数 の形で指定してください（例: model_call=365）: {rule}")
        days[action] = int(value)
    return RetentionPolicy(days)


@audit.command("prune")
@click.option("--keep", "rules", multiple=True, required=True, help="種類=日数（* は他のすべての種類）")
@data_dir_option
@reports_errors
def prune_records(rules: tuple[str, ...], data_dir: Path | None) -> None:
    """保存期間を過ぎた記録を削除し、署名付きチェックポイントでチェーンを検証可能に保ちます。"""
    policy = _policy(rules)
    database, keys, _ = _open(data_dir)
    try:
        with database.engine.begin() as connection:
            report = prune(connection, keys, policy, datetime.now(UTC))
    finally:
        database.dispose()
    click.echo(f"{report.deleted} 件の記録を削除し、チェックポイントを {report.checkpoints} 件記録しました。")
