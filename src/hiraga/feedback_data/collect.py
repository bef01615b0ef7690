"""Collection: a candidate item from feedback on a chat reply, from feedback on a task app's output
(with a receipt the portal signed when it showed the output), or from an arena preference pair.

Nothing is kept unless the user has not opted out and one of their teams' policies allows training
use at the item's 機密性; the item keeps the prompt as the model saw it (system prompt, attached
or retrieved context, earlier turns), the answer, model, endpoint, task and time, all scrubbed."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput
from hiraga.feedback_data import categories
from hiraga.feedback_data.categories import Category
from hiraga.feedback_data.policy import team_for
from hiraga.feedback_data.scrub import ItemTexts, scrub
from hiraga.identity.principal import Principal
from hiraga.pii import PiiDetector
from hiraga.portal import conversations
from hiraga.portal.chat import DEFAULT_SYSTEM_PROMPT
from hiraga.store.tables import Bot, Conversation, DatasetItem, Feedback, Message

TASKS = ("chat", "summarise", "generate", "proofread", "translate", "rag_qa", "arena")
MAX_TEXT = 200_000
RECEIPT_MAX_AGE_SECONDS = 7 * 24 * 3600
NO_CATEGORY = Category()


@dataclass(frozen=True, slots=True)
class Output:
    """A model output as the user saw it: what was asked (chat messages), what came back, and from where."""

    task: str
    prompt: list[dict[str, str]]
    answer: str
    model_name: str
    endpoint: str
    classification: int
    answered_at: datetime


def _store(
    db: Session,
    principal: Principal,
    team_id: int,
    source: str,
    output: Output,
    texts: ItemTexts,
    detectors: list[PiiDetector] | None,
    rating: str,
    *,
    category: Category = NO_CATEGORY,
    message_id: int | None = None,
    task_run_id: int | None = None,
    rejected_model: str = "",
) -> DatasetItem:
    scrubbed = scrub(texts, detectors)
    row = None
    if message_id is not None or task_run_id is not None:
        by_message = message_id is not None
        link = DatasetItem.message_id == message_id if by_message else DatasetItem.task_run_id == task_run_id
        row = db.scalar(select(DatasetItem).where(link, DatasetItem.user_id == principal.user_id))
        if row is not None and row.status == "withdrawn":
            return row  # a withdrawal stands; new feedback does not bring the item back
    if row is None:
        row = DatasetItem(user_id=principal.user_id, message_id=message_id, task_run_id=task_run_id)
        db.add(row)
    row.team_id, row.source, row.task, row.rating = team_id, source, output.task, rating
    row.category, row.category_inferred = category.code, category.inferred
    row.model_name, row.endpoint = output.model_name[:200], output.endpoint[:200]
    row.rejected_model = rejected_model[:200]
    row.classification, row.answered_at = output.classification, output.answered_at
    row.content = json.dumps(scrubbed.texts.as_json(), ensure_ascii=False)
    row.findings, row.findings_total = json.dumps(scrubbed.counts, sort_keys=True), scrubbed.total
    row.status, row.edited, row.reviewed_by, row.reviewed_at = "pending", False, None, None
    db.flush()
    return row


# -- chat -----------------------------------------------------------------------------------------
def chat_output(db: Session, principal: Principal, conversation: Conversation, message: Message) -> Output:
    bot = db.get(Bot, conversation.bot_id) if conversation.bot_id is not None else None
    system = bot.system_prompt if bot is not None else DEFAULT_SYSTEM_PROMPT
    before = [m for m in conversation.messages if m.position < message.position]
    turns = conversations.turns_of(_Earlier(before))  # type: ignore[arg-type]
    prompt = [{"role": "system", "content": system}, *({"role": t.role, "content": t.content} for t in turns)]
    return Output(
        task="chat",
        prompt=prompt,
        answer=message.content,
        model_name=message.model_name or "",
        endpoint=conversation.model,
        classification=conversation.classification,
        answered_at=message.created_at,
    )


@dataclass(frozen=True, slots=True)
class _Earlier:
    messages: list[Message]


def from_chat_feedback(
    db: Session,
    principal: Principal,
    conversation: Conversation,
    message: Message,
    feedback: Feedback,
    detectors: list[PiiDetector] | None = None,
) -> DatasetItem | None:
    """The hook of ``portal.feedback.give``: a candidate item when consent allows, else None."""
    bot = db.get(Bot, conversation.bot_id) if conversation.bot_id is not None else None
    preferred = bot.team_id if bot is not None else None
    team_id = team_for(db, principal, conversation.classification, preferred)
    if team_id is None or message.status == "failed":
        return None
    output = chat_output(db, principal, conversation, message)
    texts = ItemTexts(
        prompt=output.prompt, answer=output.answer, corrected=feedback.corrected_answer, comment=feedback.comment
    )
    why = categories.of_feedback(feedback.rating, feedback.category, feedback.comment)
    return _store(
        db, principal, team_id, "chat", output, texts, detectors, feedback.rating, category=why, message_id=message.id
    )


# -- task apps ------------------------------------------------------------------------------------
def _digest(principal: Principal, output: Output) -> bytes:
    facts: dict[str, Any] = {
        "user": principal.user_id,
        "task": output.task,
        "prompt": output.prompt,
        "answer": output.answer,
        "model": output.model_name,
        "endpoint": output.endpoint,
        "classification": output.classification,
        "at": output.answered_at.astimezone(UTC).isoformat(),
    }
    return json.dumps(facts, ensure_ascii=False, sort_keys=True).encode()


def receipt_for(secret: str, principal: Principal, output: Output) -> str:
    """The hook for a task app's result: a signature the portal hands out with the output, so that
    feedback can only be given on outputs hiraga showed to this user."""
    key = hashlib.sha256(b"hiraga-feedback-receipt:" + secret.encode()).digest()
    return hmac.new(key, _digest(principal, output), hashlib.sha256).hexdigest()


def check_output(secret: str, principal: Principal, output: Output, receipt: str) -> None:
    if output.task not in TASKS or output.task in ("chat", "arena"):
        raise InvalidInput("業務アプリの種類が正しくありません。", code="invalid_task", detail={"field": "task"})
    age = (datetime.now(UTC) - output.answered_at).total_seconds()
    expected = receipt_for(secret, principal, output)
    if not hmac.compare_digest(expected, receipt) or not 0 <= age <= RECEIPT_MAX_AGE_SECONDS:
        raise InvalidInput(
            "評価する出力が見つかりません。画面に表示された出力にだけ評価できます。",
            code="output_not_found",
            detail={"field": "receipt"},
        )


def from_task_feedback(
    db: Session,
    principal: Principal,
    output: Output,
    rating: str,
    detectors: list[PiiDetector] | None = None,
    comment: str = "",
    corrected: str = "",
    category: str = "",
    task_run_id: int | None = None,
) -> DatasetItem | None:
    """Feedback on a task app's output (a run from the user's history, or an output whose receipt the
    caller checked with ``check_output``)."""
    _check_rating(rating)
    chosen = categories.check(rating, category)
    _check_lengths(output.answer, corrected, comment, *(m["content"] for m in output.prompt))
    team_id = team_for(db, principal, output.classification)
    if team_id is None:
        return None
    texts = ItemTexts(prompt=output.prompt, answer=output.answer, corrected=corrected.strip(), comment=comment.strip())
    why = categories.of_feedback(rating, chosen, comment)
    return _store(
        db, principal, team_id, "task", output, texts, detectors, rating, category=why, task_run_id=task_run_id
    )


# -- arena ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Preference:
    """A user preferred ``chosen`` over ``rejected`` for one prompt (e.g. a blind-arena vote)."""

    prompt: list[dict[str, str]]
    chosen: str
    rejected: str
    chosen_model: str
    rejected_model: str
    classification: int
    answered_at: datetime
    team_id: int | None = None  # the team the comparison ran for: its policy is asked first


def record_preference(
    db: Session, principal: Principal, preference: Preference, detectors: list[PiiDetector] | None = None
) -> DatasetItem | None:
    """The arena's hook: a preference pair becomes a candidate item when consent allows."""
    if not preference.chosen.strip() or not preference.rejected.strip() or not preference.prompt:
        raise InvalidInput("比較した 2 つの回答と質問が必要です。", code="invalid_preference")
    _check_lengths(preference.chosen, preference.rejected, *(m["content"] for m in preference.prompt))
    team_id = team_for(db, principal, preference.classification, preference.team_id)
    if team_id is None:
        return None
    output = Output(
        task="arena",
        prompt=preference.prompt,
        answer=preference.chosen,
        model_name=preference.chosen_model,
        endpoint="",
        classification=preference.classification,
        answered_at=preference.answered_at,
    )
    texts = ItemTexts(prompt=preference.prompt, answer=preference.chosen, rejected=preference.rejected)
    loser = preference.rejected_model
    return _store(db, principal, team_id, "arena", output, texts, detectors, "", rejected_model=loser)


def _check_rating(rating: str) -> None:
    if rating not in ("good", "bad"):
        raise InvalidInput(
            "評価は good（👍）か bad（👎）で指定してください。", code="invalid_rating", detail={"field": "rating"}
        )


def _check_lengths(*texts: str) -> None:
    if sum(len(t) for t in texts) > MAX_TEXT:
        raise InvalidInput(f"評価する内容は合計 {MAX_TEXT:,} 文字以内にしてください。", code="feedback_too_long")
