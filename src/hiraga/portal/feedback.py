"""Feedback on a reply: 👍/👎 (with 👎 an optional failure category, feedback_data/categories.py), an
optional comment and an optional corrected answer, one per user
and reply (a second one replaces the first). Kept with the model that answered, for evaluation
sets and training data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput, NotFound
from hiraga.feedback_data import categories, collect
from hiraga.identity.principal import Principal
from hiraga.portal import conversations
from hiraga.store.tables import Feedback, Message

RATINGS = ("good", "bad")
MAX_TEXT = 20_000


def give(
    db: Session,
    principal: Principal,
    conversation_id: int,
    message_id: int,
    rating: str,
    comment: str = "",
    corrected_answer: str = "",
    category: str = "",
) -> Feedback:
    conversation = conversations.get(db, principal, conversation_id)
    message = next((m for m in conversation.messages if m.id == message_id), None)
    if message is None or message.role != "assistant":
        raise NotFound("評価する回答が見つかりません。", code="message_not_found")
    if rating not in RATINGS:
        raise InvalidInput(
            "評価は good（👍）か bad（👎）で指定してください。", code="invalid_rating", detail={"field": "rating"}
        )
    chosen = categories.check(rating, category)
    if len(comment) > MAX_TEXT or len(corrected_answer) > MAX_TEXT:
        raise InvalidInput(
            f"コメントと修正した回答はそれぞれ {MAX_TEXT:,} 文字以内にしてください。", code="feedback_too_long"
        )
    row = db.scalar(select(Feedback).where(Feedback.message_id == message_id, Feedback.user_id == principal.user_id))
    if row is None:
        row = Feedback(message_id=message_id, user_id=principal.user_id)
        db.add(row)
    row.rating, row.comment, row.corrected_answer = rating, comment.strip(), corrected_answer.strip()
    row.category = chosen
    row.model_name = message.model_name
    db.flush()
    collect.from_chat_feedback(db, principal, conversation, message, row)  # training data, where consented
    return row


def given_for(db: Session, principal: Principal, messages: list[Message]) -> dict[int, Feedback]:
    ids = [m.id for m in messages if m.role == "assistant"]
    if not ids:
        return {}
    rows = db.scalars(select(Feedback).where(Feedback.message_id.in_(ids), Feedback.user_id == principal.user_id))
    return {row.message_id: row for row in rows}
