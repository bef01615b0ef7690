"""Conversations and their messages: private to the user who started them. Another user's
conversation looks exactly like a missing one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput, NotFound
from hiraga.identity.principal import Principal
from hiraga.names import CONTROL_CHARACTERS, check_characters
from hiraga.portal.attachments import ExtractedText, as_context
from hiraga.portal.context_window import Turn
from hiraga.store.tables import Attachment, Bot, Conversation, Message
from hiraga.store.tables.base import utcnow

NEW_TITLE = "新しい会話"
MAX_TITLE = 200
MAX_MESSAGE_CHARS = 100_000
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    model: str
    classification: int
    bot_id: int | None = None


def _title(raw: str) -> str:
    title = check_characters(" ".join(raw.split()), "title")
    if not title:
        raise InvalidInput("会話の名前を入力してください。", code="invalid_title", detail={"field": "title"})
    if len(title) > MAX_TITLE:
        raise InvalidInput(
            f"会話の名前は {MAX_TITLE} 文字以内にしてください。", code="invalid_title", detail={"field": "title"}
        )
    return title


def check_classification(level: int) -> int:
    if level not in (1, 2, 3):
        raise InvalidInput(
            "機密性は 1・2・3 のいずれかを選んでください。",
            code="invalid_classification",
            detail={"field": "classification"},
        )
    return level


def check_content(content: str) -> str:
    text = content.strip()
    if not text:
        raise InvalidInput("メッセージを入力してください。", code="empty_message", detail={"field": "content"})
    if "\x00" in text:  # PostgreSQL cannot store NUL; no message needs it
        raise InvalidInput(
            "メッセージに NUL 文字（\\x00）は使えません。", code="nul_in_message", detail={"field": "content"}
        )
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"メッセージは {MAX_MESSAGE_CHARS:,} 文字以内にしてください。",
            code="message_too_long",
            detail={"field": "content"},
        )
    return text


def usable_bot(db: Session, principal: Principal, bot_id: int | None) -> Bot | None:
    """A bot shared with one of the user's teams (system admins may use any)."""
    if bot_id is None:
        return None
    bot = db.get(Bot, bot_id)
    if bot is None or not (principal.is_system_admin or bot.team_id in principal.team_ids):
        raise NotFound("指定されたボットが見つかりません。", code="bot_not_found", detail={"field": "bot_id"})
    return bot


def _check_settings(db: Session, principal: Principal, settings: ConversationSettings) -> None:
    if not settings.model.strip():
        raise InvalidInput("モデルを選んでください。", code="invalid_model", detail={"field": "model"})
    check_classification(settings.classification)
    usable_bot(db, principal, settings.bot_id)


def create(db: Session, principal: Principal, settings: ConversationSettings, title: str = NEW_TITLE) -> Conversation:
    _check_settings(db, principal, settings)
    row = Conversation(
        user_id=principal.user_id,
        title=_title(title),
        model=settings.model.strip(),
        classification=settings.classification,
        bot_id=settings.bot_id,
    )
    db.add(row)
    db.flush()
    return row


def get(db: Session, principal: Principal, conversation_id: int) -> Conversation:
    row = db.get(Conversation, conversation_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound("指定された会話が見つかりません。", code="conversation_not_found")
    return row


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_for(db: Session, principal: Principal, query: str = "") -> Sequence[Conversation]:
    """The user's conversations, newest first; ``query`` searches titles and message text."""
    statement = select(Conversation).where(Conversation.user_id == principal.user_id)
    words = query.split()
    for word in words[:5]:
        pattern = _like(word)
        in_messages = exists().where(
            Message.conversation_id == Conversation.id, Message.content.ilike(pattern, escape="\\")
        )
        statement = statement.where(or_(Conversation.title.ilike(pattern, escape="\\"), in_messages))
    statement = statement.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(LIST_LIMIT)
    return db.scalars(statement).all()


def rename(db: Session, principal: Principal, conversation_id: int, title: str) -> Conversation:
    row = get(db, principal, conversation_id)
    row.title = _title(title)
    db.flush()
    return row


def change_settings(
    db: Session, principal: Principal, conversation_id: int, settings: ConversationSettings
) -> Conversation:
    row = get(db, principal, conversation_id)
    _check_settings(db, principal, settings)
    row.model, row.classification, row.bot_id = settings.model.strip(), settings.classification, settings.bot_id
    db.flush()
    return row


def remove(db: Session, principal: Principal, conversation_id: int) -> None:
    row = get(db, principal, conversation_id)
    db.delete(row)
    db.flush()


# -- messages -------------------------------------------------------------------------------------
def claim_next_position(db: Session, conversation_id: int) -> int | None:
    """The position of the conversation's next message, or None when the conversation is gone.

    The conversation row is written first (its ``updated_at``), which takes its row lock on
    PostgreSQL and the write lock (``BEGIN IMMEDIATE``) on SQLite, so that concurrent posts to one
    conversation queue here and each reads the last position only after the one before committed:
    positions stay unique and dense, and no message is lost to the unique constraint."""
    touched = db.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(touched, "rowcount", 0):
        return None
    last = db.scalar(select(func.max(Message.position)).where(Message.conversation_id == conversation_id))
    return 0 if last is None else last + 1


def add_user_message(
    db: Session, conversation: Conversation, content: str, files: Sequence[ExtractedText] = ()
) -> Message:
    text = check_content(content)
    position = claim_next_position(db, conversation.id)
    if position is None:
        raise NotFound("指定された会話が見つかりません。", code="conversation_not_found")
    message = Message(
        conversation_id=conversation.id,
        position=position,
        role="user",
        content=text,
        notices=json.dumps([n for f in files if (n := f.notice())], ensure_ascii=False),
        attachments=[Attachment(filename=f.filename, text=f.text, chars_total=f.chars_total) for f in files],
    )
    db.add(message)
    if conversation.title == NEW_TITLE:
        conversation.title = _title(CONTROL_CHARACTERS.sub("", text[:40]).strip() or NEW_TITLE)
    db.flush()
    db.refresh(conversation)
    return message


def drop_last_reply(db: Session, conversation: Conversation) -> Message:
    """For 'regenerate': remove the last answer; the user turn before it is asked again."""
    messages = conversation.messages
    if messages and messages[-1].role == "assistant":
        db.delete(messages[-1])
        db.flush()
        db.refresh(conversation)
    if not conversation.messages or conversation.messages[-1].role != "user":
        raise InvalidInput("再生成できる質問がありません。", code="nothing_to_regenerate")
    return conversation.messages[-1]


def edit_user_message(db: Session, conversation: Conversation, message_id: int, content: str) -> Message:
    """For 'edit and resend': the user turn gets the new text and everything after it goes."""
    text = check_content(content)
    target = next((m for m in conversation.messages if m.id == message_id), None)
    if target is None:
        raise NotFound("指定されたメッセージが見つかりません。", code="message_not_found")
    if target.role != "user":
        raise InvalidInput("編集できるのは自分の質問だけです。", code="not_a_user_message")
    db.execute(delete(Message).where(Message.conversation_id == conversation.id, Message.position > target.position))
    target.content = text
    conversation.updated_at = utcnow()
    db.flush()
    db.expire(conversation)
    return target


def turns_of(conversation: Conversation) -> list[Turn]:
    """The conversation as the model sees it: attached text joins its user turn; failed answers
    are left out (an incomplete answer stays, it is what the user saw)."""
    turns: list[Turn] = []
    for message in conversation.messages:
        if message.role == "assistant" and (message.status == "failed" or not message.content):
            continue
        content = message.content
        if message.role == "user" and message.attachments:
            files = [ExtractedText(a.filename, a.text, a.chars_total) for a in message.attachments]
            content = f"{as_context(files)}\n\n{content}"
        turns.append(Turn(role=message.role, content=content))
    return turns


def notices_of(message: Message) -> list[str]:
    try:
        loaded = json.loads(message.notices or "[]")
    except json.JSONDecodeError:
        return []
    return [str(n) for n in loaded] if isinstance(loaded, list) else []
