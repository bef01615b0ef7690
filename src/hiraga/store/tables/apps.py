"""AI apps: registered Gennai-protocol apps, the teams they are published to, the runs users made,
and hiraga's own apps as a provider (their API keys and asynchronous jobs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hiraga.store.tables.base import Base, UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class RegisteredApp(Base):
    """An app that speaks the Gennai AI-app protocol at ``endpoint_url``. Its API key is stored
    encrypted (``hiraga.gateway.secrets``) and never read back out to anyone."""

    __tablename__ = "registered_apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    endpoint_url: Mapped[str] = mapped_column(String(2000))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    form_definition: Mapped[str] = mapped_column(Text)  # JSON, validated by hiraga.apps.forms
    mode: Mapped[str] = mapped_column(String(8), default="sync")  # "sync" | "async"
    chat: Mapped[bool] = mapped_column(Boolean, default=False)  # takes chat_history
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=60)
    classification: Mapped[int] = mapped_column(Integer, default=1)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published | disabled
    owner_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    teams: Mapped[list[RegisteredAppTeam]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @property
    def team_ids(self) -> list[int]:
        return sorted(t.team_id for t in self.teams)


class RegisteredAppTeam(Base):
    """A team the app is published to (its members see it once the app is published)."""

    __tablename__ = "registered_app_teams"

    app_id: Mapped[int] = mapped_column(ForeignKey("registered_apps.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class AppRun(Base):
    """One run of a registered app by a user: kept in the user's history. Ids, not foreign keys,
    for the app: a run outlives the app's registration."""

    __tablename__ = "app_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(Integer, index=True)
    app_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    test_call: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    progress: Mapped[str] = mapped_column(String(200), default="")
    inputs: Mapped[str] = mapped_column(Text, default="{}")  # JSON, file names only
    outputs: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifacts: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON [{display_name, content}]
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_jpy: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ProvidedAppKey(Base):
    """An API key for calling one of hiraga's own apps over the protocol (``x-api-key``). Stored as
    a digest; runs are charged to ``user_id`` and ``team_id``."""

    __tablename__ = "provided_app_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_name: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ProvidedAppJob(Base):
    """An asynchronous run of one of hiraga's own apps, polled at its ``status_url``."""

    __tablename__ = "provided_app_jobs"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_name: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16))  # PENDING | IN_PROGRESS | COMPLETED | ERROR
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)  # the COMPLETED body, JSON
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
