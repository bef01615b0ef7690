"""``hiraga limits add|list|remove``: budgets, quotas and rate limits from the command line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from hiraga.cli.common import data_dir_option, operator_session, reports_errors
from hiraga.identity import directory
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.usage import limits as limit_service


@click.group()
def limits() -> None:
    """利用上限（予算・クォータ・レート制限）の管理。"""


@limits.command("add")
@click.option("--team", default=None, help="チーム名（チームの上限）")
@click.option("--user", "email", default=None, help="利用者のメールアドレス（利用者の上限）")
@click.option("--metric", type=click.Choice([m.value for m in LimitMetric]), required=True)
@click.option("--window", type=click.Choice([w.value for w in LimitWindow]), required=True)
@click.option("--amount", type=Decimal, required=True, help="上限値（cost_jpy は円）")
@data_dir_option
@reports_errors
def add(team: str | None, email: str | None, metric: str, window: str, amount: Decimal, data_dir: Path | None) -> None:
    """チームまたは利用者に上限を設定します。"""
    if (team is None) == (email is None):
        raise click.UsageError("--team か --user のどちらか一方を指定してください。")
    with operator_session(data_dir) as (db, scope, _):
        if team is not None:
            subject, limit_scope = directory.find_team(db, team).id, LimitScope.TEAM
        else:
            subject, limit_scope = directory.find_user_by_email(db, str(email)).id, LimitScope.USER
        spec = limit_service.LimitSpec(limit_scope, subject, LimitMetric(metric), LimitWindow(window), amount)
        created = limit_service.create_limit(db, scope, spec)
        click.echo(f"上限 {created.id} を設定しました。")


@limits.command("list")
@data_dir_option
@reports_errors
def list_limits(data_dir: Path | None) -> None:
    """上限の一覧を表示します。"""
    with operator_session(data_dir) as (db, scope, _):
        for row in limit_service.visible_limits(db, scope):
            click.echo(
                f"{row.id}\t{row.scope.value}:{row.subject_id}\t{row.metric.value}/{row.window.value}\t{row.amount}"
            )


@limits.command("remove")
@click.argument("limit_id", type=int)
@data_dir_option
@reports_errors
def remove(limit_id: int, data_dir: Path | None) -> None:
    """上限を削除します。"""
    with operator_session(data_dir) as (db, scope, _):
        limit_service.remove_limit(db, scope, limit_id)
    click.echo(f"上限 {limit_id} を削除しました。")
