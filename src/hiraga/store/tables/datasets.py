"""Feedback datasets: each team's policy for turning feedback into training data (off by default),
users who opted out, and the candidate items (scrubbed of personal data) a team admin reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from hiraga.store.tables.base import Base, UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DatasetPolicy(Base):
    """A team's consent to training use. No row means: off, 機密性1 only."""

    __tablename__ = "dataset_policies"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    training_use: Mapped[bool] = mapped_column(Boolean, default=False)
    max_classification: Mapped[int] = mapped_column(Integer, default=1)
    licence: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class DatasetOptOut(Base):
    """A user who does not want their feedback used for training (past items included)."""

    __tablename__ = "dataset_opt_outs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DatasetItem(Base):
    """One candidate training example, kept only in scrubbed form (``content``: JSON with ``prompt``
    as chat messages, ``answer``, ``corrected``, ``rejected``, ``comment``).

    ``status``: pending → approved | rejected (a team admin's decision), withdrawn (by the user, an
    admin or an opt-out). Only approved items are ever exported."""

    __tablename__ = "dataset_items"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id"),
        UniqueConstraint("task_run_id", "user_id"),
        Index("ix_dataset_items_team_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # chat | task | arena
    message_id: Mapped[int | None] = mapped_column(ForeignKey("portal_messages.id", ondelete="CASCADE"), nullable=True)
    task_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_task_runs.id", ondelete="CASCADE"), nullable=True
    )
    task: Mapped[str] = mapped_column(String(64))  # chat, summarise, generate, proofread, translate, rag_qa, arena
    model_name: Mapped[str] = mapped_column(String(200), default="")
    endpoint: Mapped[str] = mapped_column(String(200), default="")
    rejected_model: Mapped[str] = mapped_column(String(200), default="")  # preference pairs: the losing model
    classification: Mapped[int] = mapped_column(Integer, default=1)
    rating: Mapped[str] = mapped_column(String(8), default="")  # good | bad | "" (a preference pair)
    # a 👎's failure category (feedback_data/categories.py); inferred: from the comment, not the user's pick
    category: Mapped[str] = mapped_column(String(32), default="", server_default="")
    category_inferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    content: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text, default="{}")  # JSON kind → count; never the values
    findings_total: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
