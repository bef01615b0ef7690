"""The history of a user's task-app runs: each run (finished, stopped or failed) is kept with what
it showed, so the user can open it again and download its files. Framework-free; only the user
who ran it sees a run."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.apps.protocol import Artifact
from hiraga.errors import NotFound
from hiraga.identity.principal import Principal
from hiraga.portal.task_apps.base import Change, RuleNote, TaskResult
from hiraga.store.tables import TaskRun

OK, STOPPED, FAILED, HELD = "ok", "stopped", "failed", "held"
HISTORY_SIZE = 20
EXCERPT_CHARS = 120
MAX_SOURCE_CHARS = 50_000
MAX_ARTIFACT_BYTES = 20 * 1024 * 1024  # all of a run's files together


@dataclass(slots=True)
class RunRecord:
    """What a page shows of one run (now or from the history)."""

    status: str
    text: str
    models: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    rule_notes: list[RuleNote] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    source_text: str = ""
    artifacts: list[str] = field(default_factory=list)  # display names; contents stay in the row
    error: str | None = None
    prompt: list[dict[str, str]] = field(default_factory=list)  # the messages sent for the answer shown
    classification: int = 0
    requested_model: str = ""
    feedback: dict[str, str] = field(default_factory=dict)  # the user's rating, comment, correction, category
    held: dict[str, Any] = field(default_factory=dict)  # status held: where the run goes on (mcp.app_runs)


def record_of(result: TaskResult) -> RunRecord:
    return RunRecord(
        status=OK,
        text=result.shown,
        models=list(dict.fromkeys(u.model_version for u in result.usage)),
        checks=list(result.checks),
        changes=list(result.changes),
        rule_notes=list(result.rule_notes),
        notices=list(result.notices),
        source_text=result.source_text[:MAX_SOURCE_CHARS],
        artifacts=[a.display_name for a in result.artifacts],
        prompt=list(result.prompt),
        classification=result.classification,
        requested_model=result.requested_model,
    )


def excerpt_of(values: dict[str, Any], file_names: list[str]) -> str:
    """The first words of the first text input, or the files' names: enough to recognise a run."""
    typed = next((str(v).strip() for v in values.values() if isinstance(v, str) and len(v.strip()) > 3), "")
    text = " ".join(typed.split())
    if len(text) > EXCERPT_CHARS:
        text = text[:EXCERPT_CHARS] + "…"
    return text or "、".join(file_names)[:EXCERPT_CHARS] or "（入力なし）"


def keep(
    db: Session,
    principal: Principal,
    app_name: str,
    excerpt: str,
    record: RunRecord,
    artifacts: list[Artifact] | None = None,
) -> int:
    row = TaskRun(user_id=principal.user_id, app_name=app_name[:100], input_excerpt=excerpt[:500])
    fill(row, record, artifacts)
    db.add(row)
    db.flush()
    return row.id


def fill(row: TaskRun, record: RunRecord, artifacts: list[Artifact] | None = None) -> None:
    """Put what a run showed into its row (a new one, or a held run that went on)."""
    payload = {**asdict(record), "artifact_contents": _kept_artifacts(artifacts or [])}
    payload.pop("text"), payload.pop("status"), payload.pop("error")
    row.status = record.status
    row.text = record.text.replace("\x00", "\ufffd")
    row.result = json.dumps(payload, ensure_ascii=False).replace("\\u0000", "\ufffd")
    row.error_message = (record.error or "")[:1000] or None


def _kept_artifacts(artifacts: list[Artifact]) -> list[str]:
    kept, total = [], 0
    for artifact in artifacts:
        total += len(artifact.content) * 3 // 4
        kept.append(artifact.content if total <= MAX_ARTIFACT_BYTES else "")
    return kept


def history(db: Session, principal: Principal, app_name: str, limit: int = HISTORY_SIZE) -> list[TaskRun]:
    query = (
        select(TaskRun)
        .where(TaskRun.user_id == principal.user_id, TaskRun.app_name == app_name)
        .order_by(TaskRun.created_at.desc(), TaskRun.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def get(db: Session, principal: Principal, app_name: str, run_id: int) -> TaskRun:
    row = db.get(TaskRun, run_id)
    if row is None or row.user_id != principal.user_id or row.app_name != app_name:
        raise NotFound("指定された実行履歴が見つかりません。", code="task_run_not_found")
    return row


def record_from_row(row: TaskRun) -> RunRecord:
    data = json.loads(row.result or "{}")
    return RunRecord(
        status=row.status,
        text=row.text,
        models=list(data.get("models") or []),
        checks=list(data.get("checks") or []),
        changes=[Change(**c) for c in data.get("changes") or []],
        rule_notes=[RuleNote(**n) for n in data.get("rule_notes") or []],
        notices=list(data.get("notices") or []),
        source_text=str(data.get("source_text") or ""),
        artifacts=list(data.get("artifacts") or []),
        error=row.error_message,
        prompt=[{"role": str(m["role"]), "content": str(m["content"])} for m in data.get("prompt") or []],
        classification=int(data.get("classification") or 0),
        requested_model=str(data.get("requested_model") or ""),
        feedback={str(k): str(v) for k, v in (data.get("feedback") or {}).items()},
        held=dict(data.get("held") or {}),
    )


def set_feedback(row: TaskRun, feedback: dict[str, str]) -> None:
    """Keep the user's feedback on a run with the run (shown again when the run is opened)."""
    data = json.loads(row.result or "{}")
    data["feedback"] = feedback
    row.result = json.dumps(data, ensure_ascii=False)


def artifact(row: TaskRun, index: int) -> tuple[str, bytes]:
    """(file name, bytes) of the run's ``index``-th file."""
    data = json.loads(row.result or "{}")
    names, contents = data.get("artifacts") or [], data.get("artifact_contents") or []
    if not 0 <= index < min(len(names), len(contents)) or not contents[index]:
        raise NotFound("指定されたファイルが見つかりません。", code="artifact_not_found")
    try:
        return str(names[index]), base64.b64decode(contents[index], validate=False)
    except (binascii.Error, ValueError):
        raise NotFound("ファイルの内容を読み取れませんでした。", code="artifact_unreadable") from None
