"""Evaluation pages: the leaderboard (scores with 95 % intervals as a table and a chart), a run with
its progress (HTMX polls while it is active) and failed items next to the reference, private test
sets (upload by team admins), and the blind arena. The services in hiraga.evaluation decide."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.evaluation import arena, leaderboard, pairwise, private_sets, report, runs, wiring
from hiraga.evaluation.base import installed_suites
from hiraga.identity import directory
from hiraga.portal.markdown import render_markdown
from hiraga.spine.authorize import AccessScope
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.apps import _admin_teams as admin_teams
from hiraga.web.pages.rendering import FORM_ERROR_STATUSES, PageRoute, PageScope, is_htmx, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CHART_WIDTH = 320


def _board_context(db: Session, scope: AccessScope) -> dict[str, Any]:
    rows = leaderboard.board(db, scope)
    titles = {name: suite.title for name, suite in installed_suites().items()}
    suites: dict[str, list[leaderboard.BoardRow]] = {}
    for row in rows:
        suites.setdefault(row.suite, []).append(row)
    may_run = scope.principal.is_system_admin or scope.principal.is_team_admin
    sets = private_sets.visible_sets(db, scope) if may_run else []
    return {
        "suites": suites,
        "titles": titles,
        "recent": runs.visible_runs(db, scope, 20),
        "width": CHART_WIDTH,
        "may_run": may_run,
        "choices": [*sorted(titles.items()), *((f"set:{s.id}", s.name) for s in sets)],
        "teams": admin_teams(db, scope),
        "values": {},
    }


@router.get("/eval")
def eval_home(request: Request, db: DbSession, scope: PageScope) -> Response:
    return render(request, "eval/index.html", _board_context(db, scope))


@router.post("/eval/runs")
async def eval_start(request: Request, db: DbSession, scope: PageScope) -> Response:
    """Queue a run (team admins for their teams, system admins); the in-process worker or
    ``hiraga eval worker`` executes it, and its page shows the progress."""
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("suite", "model", "limit", "team_id")}
    try:
        if not values["limit"].isdigit() or not 1 <= int(values["limit"]) <= 100_000:
            raise InvalidInput("件数は 1〜100,000 の整数で指定してください。", detail={"field": "limit"})
        team = int(values["team_id"]) if values["team_id"].isdigit() else None
        request_ = runs.RunRequest(values["suite"], values["model"] or "default", int(values["limit"]), team_id=team)
        created = await wiring.of(app_context(request)).evaluation.start_run(scope, request_)
    except HiragaError as error:
        if error.status not in (*FORM_ERROR_STATUSES, 403):
            raise
        context = {**_board_context(db, scope), "values": values, "error": error}
        return render(request, "eval/index.html", context, status=error.status)
    wiring.of(app_context(request)).wake()
    return redirect(request, f"/eval/runs/{created.id}")


def _run_context(db: Session, scope: AccessScope, run_id: int) -> dict[str, Any]:
    run = runs.find_run(db, scope, run_id)
    failed = runs.results(db, run.id, failed_only=True, limit=50)
    row = leaderboard.row_of(db, run)
    return {"run": run, "failed": failed, "row": row, "active": run.state in (runs.QUEUED, runs.RUNNING)}


@router.get("/eval/runs/{run_id}")
def eval_run(request: Request, run_id: RowId, db: DbSession, scope: PageScope) -> Response:
    context = _run_context(db, scope, run_id)
    template = "eval/_progress.html" if is_htmx(request) else "eval/run.html"
    return render(request, template, context)


@router.get("/eval/compare")
def eval_compare(request: Request, a: RowId, b: RowId, db: DbSession, scope: PageScope) -> Response:
    """Two runs of one suite: B − A with its paired bootstrap interval, the items side by side (most
    worsened first) and the newest stored pairwise judgement of B against A."""
    comparison = leaderboard.compare(db, scope, a, b)
    judged = pairwise.latest(db, scope, a, b)
    context = {
        "comparison": comparison,
        "run_a": runs.find_run(db, scope, a),
        "run_b": runs.find_run(db, scope, b),
        "items": leaderboard.side_by_side(db, a, b, limit=200),
        "pairwise": judged,
        "verdicts": {v["item"]: v for v in judged.verdicts} if judged is not None else {},
    }
    return render(request, "eval/compare.html", context)


@router.post("/eval/runs/{run_id}/cancel")
def eval_cancel(request: Request, run_id: RowId, db: DbSession, scope: PageScope) -> Response:
    try:
        runs.cancel_run(db, scope, run_id)
    except HiragaError as error:
        if error.status not in FORM_ERROR_STATUSES:
            raise
        db.rollback()
        return render(
            request, "eval/run.html", {**_run_context(db, scope, run_id), "error": error}, status=error.status
        )
    return redirect(request, f"/eval/runs/{run_id}")


def _sets_context(db: Session, scope: AccessScope) -> dict[str, Any]:
    return {"sets": private_sets.visible_sets(db, scope), "teams": admin_teams(db, scope), "values": {}}


@router.get("/eval/sets")
def eval_sets(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "eval/sets.html", {**_sets_context(db, scope), "notice": notice})


@router.post("/eval/sets")
async def eval_upload(request: Request, db: DbSession, scope: PageScope) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("name", "team_id", "classification", "description")}
    upload = form.get("file")
    try:
        if not values["team_id"].isdigit() or not values["classification"].isdigit():
            raise InvalidInput("チームと機密性区分を選んでください。", detail={"field": "team_id"})
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("JSONL または CSV のファイルを選んでください。", detail={"field": "file"})
        spec = private_sets.SetFile(
            int(values["team_id"]),
            values["name"],
            int(values["classification"]),
            upload.filename,
            values["description"],
        )
        private_sets.upload_file(db, scope, spec, upload.file, app_context(request).settings.eval_set_max_items)
    except HiragaError as error:
        if error.status not in (*FORM_ERROR_STATUSES, 413):
            raise
        db.rollback()
        context = {**_sets_context(db, scope), "values": values, "error": error}
        return render(request, "eval/sets.html", context, status=error.status)
    return redirect(request, "/eval/sets?notice=uploaded")


def _arena_teams(db: Session, scope: AccessScope) -> list[Any]:
    return [
        t for t in directory.list_teams(db, scope) if t.id in scope.principal.team_ids and arena.is_enabled(db, t.id)
    ]


@router.get("/eval/arena")
def eval_arena(request: Request, db: DbSession, scope: PageScope, task: str | None = None) -> Response:
    ratings = arena.ratings(arena.outcomes(db, task))
    return render(request, "eval/arena.html", {"teams": _arena_teams(db, scope), "ratings": ratings, "values": {}})


@router.post("/eval/arena")
async def eval_fight(request: Request, db: DbSession, scope: PageScope) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("team_id", "prompt", "task", "classification")}
    try:
        if not values["team_id"].isdigit():
            raise InvalidInput("チームを選んでください。", detail={"field": "team_id"})
        level = int(values["classification"]) if values["classification"] in ("1", "2", "3") else 1
        battle = await wiring.of(app_context(request)).evaluation.fight(
            scope, team_id=int(values["team_id"]), prompt=values["prompt"], task=values["task"] or "chat",
            classification=level,
        )  # fmt: skip
    except HiragaError as error:
        if error.status not in (*FORM_ERROR_STATUSES, 403):
            raise
        context = {"teams": _arena_teams(db, scope), "ratings": [], "values": values, "error": error}
        return render(request, "eval/arena.html", context, status=error.status)
    return render(request, "eval/battle.html", {"battle": battle})


@router.post("/eval/arena/{battle_id}/vote")
async def eval_vote(request: Request, battle_id: RowId, db: DbSession, scope: PageScope) -> Response:
    form = await request.form()
    battle = arena.vote(db, scope, battle_id, str(form.get("winner") or ""))
    return render(request, "eval/battle.html", {"battle": battle})


@router.get("/eval/reports/{model:path}")
def eval_report(request: Request, model: str, db: DbSession, scope: PageScope) -> Response:
    """The developer report as a page (the API gives Markdown and JSON)."""
    found = report.model_report(db, scope, model)
    return render(request, "eval/report.html", {"model": model, "html": render_markdown(report.markdown(found))})
