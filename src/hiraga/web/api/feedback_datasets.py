"""/api/v1/feedback-datasets: consent (team policy, opt-out), feedback on task-app outputs, the team
admin's review queue, withdrawal, the export download and the report for model developers. Thin:
each route hands over to a ``hiraga.feedback_data`` service."""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from hiraga.bounds import DbInt, RowId
from hiraga.feedback_data import collect, export, policy, report, review, task_feedback
from hiraga.feedback_data import protocol as wire
from hiraga.feedback_data.scrub import ItemTexts
from hiraga.portal import task_history
from hiraga.spine.authorize import AccessScope
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import CurrentPrincipal, DbSession, Scope, app_context

router = APIRouter(prefix="/api/v1/feedback-datasets", tags=["学習データ"], responses=ERROR_RESPONSES)


def export_filter(
    team_id: RowId | None = None,
    model: str | None = None,
    task: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> export.ExportFilter:
    return export.ExportFilter(team_id, model or None, task or None, since, until)


Filter = Annotated[export.ExportFilter, Depends(export_filter)]


@router.get("/policies/{team_id}", summary="チームの提供方針（学習への利用と機密性）")
def get_policy(team_id: RowId, db: DbSession, scope: Scope) -> wire.PolicyView:
    return wire.PolicyView.of(policy.visible_policy(db, scope, team_id))


@router.put("/policies/{team_id}", summary="チームの提供方針を設定（チーム管理者）")
def set_policy(team_id: RowId, body: wire.PolicyUpdate, db: DbSession, scope: Scope) -> wire.PolicyView:
    found = policy.set_policy(db, scope, team_id, body.training_use, body.max_classification, body.licence)
    return wire.PolicyView.of(found)


@router.put("/opt-out", summary="自分の評価を学習に使わない（過去の評価も取り下げ）")
def set_opt_out(body: wire.OptOut, db: DbSession, principal: CurrentPrincipal) -> wire.OptOutResult:
    withdrawn = policy.set_opt_out(db, principal, body.opted_out)
    return wire.OptOutResult(opted_out=body.opted_out, items_withdrawn=withdrawn)


@router.post("/task-outputs", summary="業務アプリの出力への評価", status_code=201)
def task_output_feedback(
    request: Request, body: wire.TaskOutputFeedback, db: DbSession, principal: CurrentPrincipal
) -> wire.ItemState | None:
    output = collect.Output(
        task=body.task,
        prompt=[m.model_dump() for m in body.prompt],
        answer=body.answer,
        model_name=body.model_name,
        endpoint=body.endpoint,
        classification=body.classification,
        answered_at=body.answered_at,
    )
    collect.check_output(app_context(request).settings.secret(), principal, output, body.receipt)
    row = collect.from_task_feedback(
        db, principal, output, body.rating, None, body.comment, body.corrected_answer, body.category
    )
    return None if row is None else wire.ItemState(id=row.id, status=row.status)


@router.put("/task-runs/{app_name}/{run_id}", summary="自分の業務アプリの実行（履歴）への評価")
def task_run_feedback(
    app_name: str, run_id: RowId, body: wire.RunFeedback, db: DbSession, principal: CurrentPrincipal
) -> wire.RunFeedbackResult:
    """The prompt kept is what the app sent to the model (system prompt, retrieved passages); another
    user's run is 404; whether the feedback became a candidate item is not told (consent decides)."""
    feedback = task_feedback.RunFeedback(body.rating, body.comment, body.corrected_answer, body.category)
    row = task_feedback.give(db, principal, app_name, run_id, feedback)
    return wire.RunFeedbackResult.of(row.id, task_history.record_from_row(row).feedback)


@router.get("/items", summary="確認待ちなどの評価データ（チーム管理者）")
def list_items(
    db: DbSession, scope: Scope, team_id: RowId | None = None, status: str = "pending", offset: DbInt = 0
) -> list[wire.ItemView]:
    return [wire.ItemView.of(row) for row in review.queue(db, scope, team_id, status, offset)]


@router.post("/items/{item_id}/review", summary="承認・編集して承認・却下（チーム管理者）")
def review_item(item_id: RowId, body: wire.Review, db: DbSession, scope: Scope) -> wire.ItemView:
    if body.content is not None:
        texts = ItemTexts.from_json(body.content.model_dump())
        return wire.ItemView.of(review.edit_and_approve(db, scope, item_id, texts))
    return wire.ItemView.of(review.decide(db, scope, item_id, body.decision))


@router.post("/teams/{team_id}/bulk-approve", summary="個人情報の検出がない確認待ちを一括承認")
def bulk_approve(team_id: RowId, db: DbSession, scope: Scope) -> wire.BulkResult:
    return wire.BulkResult(approved=review.bulk_approve(db, scope, team_id))


@router.post("/items/{item_id}/withdraw", summary="評価データを取り下げる（本人またはチーム管理者）")
def withdraw_item(item_id: RowId, db: DbSession, principal: CurrentPrincipal) -> wire.ItemState:
    row = review.withdraw(db, principal, item_id)
    return wire.ItemState(id=row.id, status=row.status)


@router.post("/teams/{team_id}/users/{user_id}/withdraw", summary="利用者の評価データをすべて取り下げる")
def withdraw_user(team_id: RowId, user_id: RowId, db: DbSession, scope: Scope) -> wire.WithdrawResult:
    return wire.WithdrawResult(items_withdrawn=review.withdraw_user(db, scope, team_id, user_id))


@router.get("/export", summary="学習データの書き出し（SFT・DPO・KTO の JSONL とデータカードの zip）")
def export_download(request: Request, db: DbSession, scope: Scope, wanted: Filter) -> FileResponse:
    return download(request, db, scope, wanted)


def download(request: Request, db: Session, scope: AccessScope, filters: export.ExportFilter) -> FileResponse:
    """The export as a zip (the page's download too): made completely first, removed once sent."""
    workdir = app_context(request).settings.data_dir / "exports"
    workdir.mkdir(parents=True, exist_ok=True)
    archive, _summary = export.export_archive(db, scope, filters, workdir)
    db.commit()  # the export's audit record stands before the file is offered
    cleanup = BackgroundTask(shutil.rmtree, archive.parent, ignore_errors=True)
    return FileResponse(archive, media_type="application/zip", filename=archive.name, background=cleanup)


@router.get("/report", summary="モデル別の評価の集計（承認済み・提供可能なものだけ）")
def model_report(db: DbSession, scope: Scope, wanted: Filter) -> list[wire.ModelReportView]:
    return [
        wire.ModelReportView(
            model=entry.model,
            tasks=[
                wire.TaskRatesView(
                    task=task,
                    good=r.good,
                    bad=r.bad,
                    corrected=r.corrected,
                    preferred=r.preferred,
                    good_rate=r.good_rate,
                    failures=r.failures,
                    inferred=r.inferred,
                    uncategorised=r.uncategorised,
                )
                for task, r in sorted(entry.tasks.items())
            ],
            complaints=entry.complaints,
        )
        for entry in report.report(db, scope, wanted)
    ]
