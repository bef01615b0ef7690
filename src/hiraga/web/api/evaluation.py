"""/api/v1/eval: suites, runs, leaderboard, private test sets, reports, blind arena, routing by
task. Thin: the services in hiraga.evaluation decide and scope everything."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response

from hiraga.bounds import RowId
from hiraga.errors import NotFound
from hiraga.evaluation import arena, leaderboard, pairwise, private_sets, report, routing, runs, wiring
from hiraga.evaluation import protocol as wire
from hiraga.evaluation.base import installed_suites
from hiraga.gateway.admin_protocol import AliasView
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import DbSession, Scope, SystemAdminScope, TeamAdminScope, app_context

router = APIRouter(prefix="/api/v1/eval", tags=["評価"], responses=ERROR_RESPONSES)


def _wiring(request: Request) -> wiring.EvaluationWiring:
    return wiring.of(app_context(request))


@router.get("/suites", summary="評価スイートの一覧")
def list_suites(scope: Scope) -> list[wire.SuiteInfo]:
    return [
        wire.SuiteInfo(name=n, title=s.title, task=s.task, version=s.version)
        for n, s in sorted(installed_suites().items())
    ]


@router.post("/runs", status_code=202, summary="評価の実行（待ち行列に入れる）")
async def create_run(body: wire.RunCreate, request: Request, scope: TeamAdminScope) -> wire.Run:
    fields = body.model_dump()
    run = await _wiring(request).evaluation.start_run(scope, runs.RunRequest(**fields))
    _wiring(request).wake()
    return wire.Run.model_validate(run)


@router.get("/runs", summary="評価の実行の一覧")
def list_runs(db: DbSession, scope: Scope) -> list[wire.Run]:
    return [wire.Run.model_validate(r) for r in runs.visible_runs(db, scope)]


@router.get("/runs/{run_id}", summary="評価の実行")
def get_run(run_id: RowId, db: DbSession, scope: Scope) -> wire.Run:
    return wire.Run.model_validate(runs.find_run(db, scope, run_id))


@router.get("/runs/{run_id}/results", summary="項目ごとの出力とスコア")
def get_results(run_id: RowId, db: DbSession, scope: Scope, failed: bool = False) -> list[wire.Result]:
    found = runs.find_run(db, scope, run_id)
    return [wire.Result.model_validate(r) for r in runs.results(db, found.id, failed_only=failed)]


@router.post("/runs/{run_id}/cancel", summary="実行の取り消し")
def cancel_run(run_id: RowId, db: DbSession, scope: Scope) -> wire.Run:
    return wire.Run.model_validate(runs.cancel_run(db, scope, run_id))


@router.post("/runs/{run_id}/resume", summary="実行の再開（終わった項目は呼び出さない）")
def resume_run(run_id: RowId, request: Request, db: DbSession, scope: Scope) -> wire.Run:
    run = runs.resume_run(db, scope, run_id)
    _wiring(request).wake()
    return wire.Run.model_validate(run)


@router.get("/leaderboard", summary="リーダーボード（95% 信頼区間つき）")
def get_leaderboard(db: DbSession, scope: Scope, suite: str | None = None) -> list[wire.BoardRow]:
    return [wire.BoardRow.model_validate(r) for r in leaderboard.board(db, scope, suite)]


@router.get("/runs/{run_id}/compare/{other_run_id}", summary="同じスイートの 2 つの実行の比較（後の実行 − 前の実行）")
def compare_runs(run_id: RowId, other_run_id: RowId, db: DbSession, scope: Scope) -> wire.Comparison:
    found = leaderboard.compare(db, scope, run_id, other_run_id)
    return wire.Comparison.model_validate(found)


@router.get("/runs/{run_id}/pairwise/{other_run_id}", summary="保存された一対比較（審査モデル、両方の順番）")
def get_pairwise(run_id: RowId, other_run_id: RowId, db: DbSession, scope: Scope) -> wire.Pairwise:
    """The newest stored judgement of the second run against the first (``hiraga eval pairwise``)."""
    found = pairwise.latest(db, scope, run_id, other_run_id)
    if found is None:
        raise NotFound("この 2 つの実行の一対比較はまだありません。", code="eval_pairwise_not_found")
    return wire.Pairwise.model_validate(found)


@router.get("/sets", summary="非公開テストセットの一覧")
def list_sets(db: DbSession, scope: Scope) -> list[wire.EvalSet]:
    return [wire.EvalSet.model_validate(s) for s in private_sets.visible_sets(db, scope)]


@router.post("/sets", status_code=201, summary="非公開テストセットの登録（JSONL・CSV）")
def upload_set(
    request: Request,
    db: DbSession,
    scope: TeamAdminScope,
    file: Annotated[UploadFile, File()],
    team_id: Annotated[RowId, Form()],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    classification: Annotated[int, Form(ge=1, le=3)],
    description: Annotated[str, Form(max_length=2000)] = "",
) -> wire.EvalSet:
    spec = private_sets.SetFile(team_id, name, classification, file.filename or "", description)
    created = private_sets.upload_file(db, scope, spec, file.file, app_context(request).settings.eval_set_max_items)
    return wire.EvalSet.model_validate(created)


@router.get("/sets/{set_id}", summary="非公開テストセット")
def get_set(set_id: RowId, db: DbSession, scope: Scope) -> wire.EvalSet:
    return wire.EvalSet.model_validate(private_sets.find_set(db, scope, set_id))


@router.delete("/sets/{set_id}", status_code=204, response_class=Response, summary="非公開テストセットの削除")
def delete_set(set_id: RowId, db: DbSession, scope: Scope) -> None:
    private_sets.delete_set(db, scope, set_id)


@router.get("/reports/{model:path}", summary="モデル開発者向けレポート（Markdown または JSON）", response_model=None)
def model_report(
    model: str, db: DbSession, scope: Scope, format: str = "json", include_private: bool = False
) -> dict[str, object] | PlainTextResponse:
    found = report.model_report(db, scope, model, include_private=include_private)
    if format == "md":
        return PlainTextResponse(report.markdown(found), media_type="text/markdown; charset=utf-8")
    return found


@router.put("/arena/teams/{team_id}", status_code=204, response_class=Response, summary="アリーナの有効化（チーム）")
def toggle_arena(team_id: RowId, body: wire.ArenaToggle, db: DbSession, scope: Scope) -> None:
    arena.set_enabled(db, scope, team_id, body.enabled)


@router.post("/arena/battles", status_code=201, summary="匿名の 2 モデル比較")
async def create_battle(body: wire.BattleCreate, request: Request, scope: Scope) -> wire.Battle:
    battle = await _wiring(request).evaluation.fight(
        scope, team_id=body.team_id, prompt=body.prompt, task=body.task, classification=body.classification
    )
    return wire.Battle(id=battle.id, prompt=battle.prompt, answer_a=battle.answer_a, answer_b=battle.answer_b)


@router.post("/arena/battles/{battle_id}/vote", summary="どちらが良いか（a・b・tie）")
def vote(battle_id: RowId, body: wire.Vote, db: DbSession, scope: Scope) -> wire.Battle:
    return wire.Battle.model_validate(arena.vote(db, scope, battle_id, body.winner))


@router.get("/arena/ratings", summary="Bradley–Terry レーティング（95% 区間）")
async def get_ratings(request: Request, scope: Scope, task: str | None = None) -> list[wire.Rating]:
    database = app_context(request).database

    def compute() -> list[arena.Rating]:
        with database.session() as db:
            return arena.ratings(arena.outcomes(db, task))

    return [wire.Rating.model_validate(r) for r in await asyncio.to_thread(compute)]


@router.put("/routes", summary="評価結果からタスク別の別名を設定")
def set_route(body: wire.RouteSet, db: DbSession, scope: SystemAdminScope) -> AliasView:
    return routing.set_task_route(
        db, scope, task=body.task, alias=body.alias, max_cost_per_1000=body.max_cost_per_1000_jpy, pin=body.pin
    )
