"""``hiraga eval ...``: 行政実務適性評価 from the shell. ``hiraga eval run --suite S --models a,b``
runs each suite against each model through the gateway (audited, budgeted, PII rules applied) with
a progress line, then prints the leaderboard rows with 95 % intervals. A run interrupted (Ctrl-C,
kill -9) is resumed with ``hiraga eval resume RUN_ID`` without calling finished items again."""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path

import click

from hiraga.cli.common import CLI_OPERATOR, data_dir_option, operator_session, reports_errors
from hiraga.cli.evaluation_admin import (
    compare_command,
    leaderboard_command,
    pairwise_command,
    report_command,
    route,
    sets,
)
from hiraga.errors import Conflict
from hiraga.evaluation import runs
from hiraga.evaluation.base import installed_suites
from hiraga.evaluation.leaderboard import BoardRow, row_of
from hiraga.evaluation.runner import Progress
from hiraga.evaluation.service import Evaluation, open_evaluation
from hiraga.gateway import registry
from hiraga.identity import directory
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import EvalRun


@click.group("eval")
def evaluation() -> None:
    """行政実務適性評価（評価スイート・非公開テストセット・リーダーボード）。"""


def _progress_line(label: str, every: float = 0.1) -> object:
    """Redraws the progress line at most every ``every`` seconds (and at the end): a line per item
    cost more than the item itself on a fast upstream."""
    drawn = [0.0]

    def show(progress: Progress) -> None:
        now = time.monotonic()
        if now - drawn[0] < every and progress.done != progress.total:
            return
        drawn[0] = now
        total = f"/{progress.total}" if progress.total else ""
        width = 30
        filled = int(width * progress.done / progress.total) if progress.total else 0
        bar = "#" * filled + "-" * (width - filled) if progress.total else ""
        click.echo(
            f"\r{label} [{bar}] {progress.done}{total} 失敗 {progress.failed} 費用 {progress.cost_jpy:.2f} 円",
            nl=False,
            err=True,
        )

    return show


@evaluation.command("suites")
def list_suites() -> None:
    """使える評価スイート（プラグインを含む）を表示します。"""
    for name, suite in sorted(installed_suites().items()):
        click.echo(f"{name}\tv{suite.version}\t{suite.task}\t{suite.title}")


@evaluation.command("run")
@click.option("--suite", "suite_names", required=True, help="スイート名（カンマ区切りで複数、set:<ID> で非公開セット）")
@click.option("--models", required=True, help="モデル名または別名（カンマ区切り）")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="スイートごとの件数（先頭から）")
@click.option("--concurrency", type=click.IntRange(1, runs.MAX_CONCURRENCY), default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-tokens", type=click.IntRange(16, 32768), default=512, show_default=True)
@click.option("--cost-cap", type=Decimal, default=None, help="実行ごとの費用の上限（円）。達すると一時停止")
@click.option("--team", default=None, help="費用を計上するチーム名")
@click.option("--classification", type=click.IntRange(1, 3), default=1, show_default=True)
@data_dir_option
@reports_errors
def run(
    suite_names: str,
    models: str,
    limit: int | None,
    concurrency: int,
    seed: int,
    max_tokens: int,
    cost_cap: Decimal | None,
    team: str | None,
    classification: int,
    data_dir: Path | None,
) -> None:
    """スイートを各モデルで実行し、スコアと 95% 信頼区間の表を表示します。"""
    with operator_session(data_dir) as (db, _scope, settings):
        registry.ensure_builtin_endpoints(db)  # the embedded model ("default") on a fresh data dir
        team_id = directory.find_team(db, team).id if team else None
    requests = [
        runs.RunRequest(suite, model, limit, seed, concurrency, 0.0, max_tokens, cost_cap, team_id, classification)
        for suite in _names(suite_names)
        for model in _names(models)
    ]
    rows = asyncio.run(_run_all(settings, AccessScope(CLI_OPERATOR), requests))
    _print_rows(rows)
    if any(state != runs.COMPLETED for state, _ in rows):
        sys.exit(2)


def _names(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.UsageError("名前を 1 つ以上指定してください。")
    return names


async def _run_all(
    settings: Settings, scope: AccessScope, requests: list[runs.RunRequest]
) -> list[tuple[str, BoardRow]]:
    rows = []
    async with open_evaluation(settings) as service:
        for request in requests:
            created = await service.start_run(scope, request)
            click.echo(f"実行 {created.id}: {request.suite} × {request.model}", err=True)
            rows.append(await _execute(service, created.id, f"{request.suite} × {request.model}"))
    return rows


async def _execute(service: Evaluation, run_id: int, label: str) -> tuple[str, BoardRow]:
    claimed = await asyncio.to_thread(runs.claim_run, service.database, service.runner.stale_after, run_id)
    if claimed is None:
        raise Conflict(f"実行 {run_id} は別のプロセスが実行中です。", code="eval_run_busy")
    state = await service.runner.execute(run_id, _progress_line(label))  # type: ignore[arg-type]
    click.echo("", err=True)
    with service.database.session() as db:
        finished = db.get(EvalRun, run_id)
        assert finished is not None
        if finished.error_message:
            click.echo(f"実行 {run_id}: {state}: {finished.error_message}", err=True)
        return state, row_of(db, finished)


def _print_rows(rows: list[tuple[str, BoardRow]]) -> None:
    click.echo("run\tsuite\tmodel\tstate\titems\tfailed\tscore\t95%CI\tJPY/1000\tp50ms\tp95ms")
    for state, r in rows:
        click.echo(
            f"{r.run_id}\t{r.suite}\t{r.model}\t{state}\t{r.items}\t{r.failed}\t{r.score:.3f}\t"
            f"[{r.low:.3f}, {r.high:.3f}]\t{r.cost_per_1000_jpy}\t{r.latency_p50_ms:.0f}\t{r.latency_p95_ms:.0f}"
        )


@evaluation.command("resume")
@click.argument("run_id", type=int)
@data_dir_option
@reports_errors
def resume(run_id: int, data_dir: Path | None) -> None:
    """中断した実行を再開します（終わった項目はもう呼び出しません）。"""
    with operator_session(data_dir) as (db, scope, settings):
        found = runs.find_run(db, scope, run_id)
        if found.state not in (runs.QUEUED, runs.RUNNING):
            runs.resume_run(db, scope, run_id)

    async def go() -> tuple[str, BoardRow]:
        async with open_evaluation(settings) as service:
            return await _execute(service, run_id, f"実行 {run_id}")

    rows = [asyncio.run(go())]
    _print_rows(rows)


@evaluation.command("cancel")
@click.argument("run_id", type=int)
@data_dir_option
@reports_errors
def cancel(run_id: int, data_dir: Path | None) -> None:
    """実行を取り消します（実行中のプロセスは次の項目の前に止まります）。"""
    with operator_session(data_dir) as (db, scope, _):
        runs.cancel_run(db, scope, run_id)
    click.echo(f"実行 {run_id} を取り消しました。")


@evaluation.command("worker")
@click.option("--once", is_flag=True, help="待っている実行を 1 つ処理したら終了")
@click.option("--poll", type=float, default=5.0, show_default=True)
@data_dir_option
@reports_errors
def worker(once: bool, poll: float, data_dir: Path | None) -> None:
    """待ち行列の評価を実行するワーカー（スケールアウト構成用）。"""
    with operator_session(data_dir) as (_, _scope, settings):
        pass

    async def go() -> None:
        async with open_evaluation(settings) as service:
            while True:
                claimed = await service.runner.run_next()
                if once:
                    return
                if claimed is None:
                    await asyncio.sleep(poll)

    asyncio.run(go())


evaluation.add_command(leaderboard_command)
evaluation.add_command(compare_command)
evaluation.add_command(pairwise_command)
evaluation.add_command(report_command)
evaluation.add_command(sets)
evaluation.add_command(route)
