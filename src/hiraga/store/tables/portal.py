"""The portal: conversations and their messages (with attachments and feedback), saved system
prompts (bots) shared with a team, builder apps published to teams, and each user's favourites
and recently used apps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hiraga.store.tables.base import Base, UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Conversation(Base):
    """One chat of one user; kept until the user deletes it."""

    __tablename__ = "portal_conversations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))  # the name or alias the user picked
    classification: Mapped[int] = mapped_column(Integer, default=1)
    bot_id: Mapped[int | None] = mapped_column(ForeignKey("portal_bots.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    messages: Mapped[list[Message]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Message.position", lazy="selectin"
    )


class Message(Base):
    """A turn. Assistant turns name the model that answered; ``status`` says whether the answer is
    complete, was cut off (``incomplete``: stopped or failed mid-stream, partial text kept) or
    failed before any text came (``failed``)."""

    __tablename__ = "portal_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("portal_conversations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="complete")  # complete | incomplete | failed
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    builtin_model: Mapped[bool] = mapped_column(default=False)
    error_message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    notices: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of Japanese notes (what was cut)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin", order_by="Attachment.id"
    )


class Attachment(Base):
    """Text extracted from a file attached to a user turn: the part that fits the context window."""

    __tablename__ = "portal_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("portal_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    chars_total: Mapped[int] = mapped_column(Integer)


class Feedback(Base):
    """👍/👎 with an optional comment and corrected answer, one per user and reply."""

    __tablename__ = "portal_feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("portal_messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[str] = mapped_column(String(8))  # good | bad
    comment: Mapped[str] = mapped_column(Text, default="")
    corrected_answer: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="", server_default="")  # a 👎's category, by the user
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Bot(Base):
    """A saved system prompt a team admin shares with their team."""

    __tablename__ = "portal_bots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    system_prompt: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BuilderApp(Base):
    """An app made from a prompt template with placeholders (「ユースケースから作る」)."""

    __tablename__ = "portal_builder_apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    template: Mapped[str] = mapped_column(Text)
    classification: Mapped[int] = mapped_column(Integer, default=1)
    use_tools: Mapped[bool] = mapped_column(default=False, server_default=false())  # offered the team's MCP tools
    owner_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    teams: Mapped[list[BuilderAppTeam]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @property
    def team_ids(self) -> list[int]:
        return sorted(t.team_id for t in self.teams)


class BuilderAppTeam(Base):
    __tablename__ = "portal_builder_app_teams"

    app_id: Mapped[int] = mapped_column(ForeignKey("portal_builder_apps.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class AppUse(Base):
    """A user's relation to one catalogue entry: favourite or not, and when last used."""

    __tablename__ = "portal_app_uses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    app_key: Mapped[str] = mapped_column(String(120), primary_key=True)  # "chat", "task:summarise", "builder:3"
    favourite: Mapped[bool] = mapped_column(default=False)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TaskRun(Base):
    """One run of a task app (文章生成・要約・校正・翻訳 or a plugin app) from the portal, kept in the
    user's history: what went in (an excerpt and file names), what came back and whether it was
    stopped. ``result`` is JSON: models, checks, changes, rule notes, notices, artifacts' names."""

    __tablename__ = "portal_task_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    app_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # ok | stopped | failed | held (a tool call waits)
    input_excerpt: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="{}")
    error_message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
