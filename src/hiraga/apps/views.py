"""Reading apps and runs back for the API and the pages: the shapes users see, and their audit."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from hiraga.apps.admin_protocol import AppView, ArtifactInfo, RunCreate, RunView
from hiraga.apps.events import event_row, record_event
from hiraga.apps.forms import Upload
from hiraga.apps.runs import RunRequest
from hiraga.errors import HiragaError, InvalidInput, NotFound
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import AppRun, RegisteredApp

T = TypeVar("T")
STALE_AFTER = timedelta(hours=1, minutes=10)  # longer than the longest app timeout


def app_view(app: RegisteredApp) -> AppView:
    return AppView.model_validate(
        {
            **{c: getattr(app, c) for c in AppView.model_fields if hasattr(app, c) and c != "team_ids"},
            "has_api_key": bool(app.api_key_encrypted),
            "team_ids": app.team_ids,
        }
    )


def artifacts_of(run: AppRun) -> list[dict[str, Any]]:
    if not run.artifacts:
        return []
    loaded: list[dict[str, Any]] = json.loads(run.artifacts)
    return loaded


def artifact_bytes(run: AppRun, index: int) -> tuple[str, bytes]:
    items = artifacts_of(run)
    if not 0 <= index < len(items):
        raise NotFound("指定された成果物がありません。", code="artifact_not_found")
    item = items[index]
    try:
        return str(item.get("display_name") or f"artifact-{index}"), base64.b64decode(item.get("content") or "")
    except (binascii.Error, ValueError):
        raise NotFound("成果物の内容を読み取れません。", code="artifact_unreadable") from None


def run_state(run: AppRun) -> tuple[str, str | None, str | None]:
    """(status, error code, error message); a run left ``running`` by a dead process reads as failed."""
    if run.status == "running" and run.created_at < datetime.now(UTC) - STALE_AFTER:
        return "failed", "app_run_interrupted", "処理が中断されました（サーバーの再起動など）。"
    return run.status, run.error_code, run.error_message


def run_view(run: AppRun) -> RunView:
    status, code, message = run_state(run)
    artifacts = []
    for index, item in enumerate(artifacts_of(run)):
        size = len(str(item.get("content") or "")) * 3 // 4
        artifacts.append(ArtifactInfo(index=index, display_name=str(item.get("display_name") or ""), size=size))
    return RunView.model_validate(
        {
            **{c: getattr(run, c) for c in RunView.model_fields if hasattr(run, c)},
            "status": status,
            "error_code": code,
            "error_message": message,
            "artifacts": artifacts,
        }
    )


def get_run(db: Session, scope: AccessScope, run_id: int, app_id: int | None = None) -> AppRun:
    """Runs are their user's own history."""
    run = db.get(AppRun, run_id)
    if run is None or run.user_id != scope.principal.user_id or (app_id is not None and run.app_id != app_id):
        raise NotFound("指定された実行履歴が見つかりません。", code="run_not_found")
    return run


def run_request(body: RunCreate) -> RunRequest:
    uploads: dict[str, list[Upload]] = {}
    for key, files in body.files.items():
        for item in files:
            try:
                data = base64.b64decode(item.content, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidInput(
                    f"ファイル「{item.filename}」の内容が base64 として読めません。", detail={"field": f"files.{key}"}
                ) from None
            uploads.setdefault(key, []).append(Upload(item.filename, data))
    return RunRequest(values=body.inputs, uploads=uploads, chat_history=body.chat_history, test_call=body.test_call)


def audited_write(
    database: Database, db: Session, scope: AccessScope, action: str, work: Callable[[], T], subject: str = ""
) -> T:
    """Run one registry write; commit and audit it, or roll it back and audit the refusal."""
    try:
        result = work()
        db.commit()
    except HiragaError as error:
        db.rollback()
        record_event(database, event_row(scope.principal, action, error=error, subject=subject or None))
        raise
    record_event(database, event_row(scope.principal, action, subject=subject or None))
    return result


async def in_thread(work: Callable[[], T]) -> T:
    return await asyncio.to_thread(work)
