"""Feedback on a task app's run from the user's history (要約, 文章生成, 校正, 翻訳, RAG): 👍/👎, a
comment, a corrected output and a 👎's category, kept with the run; and, where consent allows, a
candidate item with the messages the app really sent to the model (system prompt and retrieved
passages included), taken from the run as it was kept, not from the browser."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput
from hiraga.feedback_data import categories, collect
from hiraga.identity.principal import Principal
from hiraga.pii import PiiDetector
from hiraga.portal import task_history
from hiraga.store.tables import TaskRun

TASK_APPS = ("summarise", "generate", "proofread", "translate", "rag_qa")


@dataclass(frozen=True, slots=True)
class RunFeedback:
    rating: str
    comment: str = ""
    corrected: str = ""
    category: str = ""


def can_rate(app_name: str, record: task_history.RunRecord) -> bool:
    """Only a finished run of a known task app whose answer a model wrote (its prompt was kept)."""
    return app_name in TASK_APPS and record.status == task_history.OK and bool(record.prompt)


def output_of(row: TaskRun, record: task_history.RunRecord) -> collect.Output:
    return collect.Output(
        task=row.app_name,
        prompt=record.prompt,
        answer=record.text,
        model_name=record.models[-1] if record.models else "",
        endpoint=record.requested_model,
        classification=record.classification or 1,
        answered_at=row.created_at,
    )


def give(
    db: Session,
    principal: Principal,
    app_name: str,
    run_id: int,
    feedback: RunFeedback,
    detectors: list[PiiDetector] | None = None,
) -> TaskRun:
    """Rate one of the caller's runs (another user's run: 404, as if it did not exist)."""
    row = task_history.get(db, principal, app_name, run_id)
    record = task_history.record_from_row(row)
    if not can_rate(app_name, record):
        raise InvalidInput(
            "この実行は評価できません（完了した業務アプリの出力だけを評価できます）。", code="run_not_ratable"
        )
    output = output_of(row, record)
    comment, corrected = feedback.comment.strip(), feedback.corrected.strip()
    collect.from_task_feedback(
        db, principal, output, feedback.rating, detectors, comment, corrected, feedback.category, task_run_id=row.id
    )
    kept = categories.of_feedback(feedback.rating, feedback.category.strip(), comment)
    task_history.set_feedback(
        row,
        {
            "rating": feedback.rating,
            "comment": comment,
            "corrected_answer": corrected,
            "category": kept.code,
            "category_inferred": "1" if kept.inferred else "",
        },
    )
    db.flush()
    return row
