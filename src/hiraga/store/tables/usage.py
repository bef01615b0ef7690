"""Limits, their counters, per-call usage records and the append-only audit log.

Usage and audit rows carry ids, not foreign keys: they must outlive the users, keys, teams and
endpoints they mention (an auditor reads them years later), and deleting a user must never
cascade into the log. ``audit_records.prev_hash``/``hash`` are left empty here; the governance
issue fills them to make the log tamper-evident.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hiraga.store.tables.base import Base, UtcDateTime, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _str_enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class LimitScope(enum.StrEnum):
    USER = "user"
    TEAM = "team"
    KEY = "key"


class LimitMetric(enum.StrEnum):
    REQUESTS = "requests"
    TOKENS = "tokens"
    COST_JPY = "cost_jpy"


class LimitWindow(enum.StrEnum):
    MINUTE = "minute"
    DAY = "day"  # calendar day in Japan time
    MONTH = "month"  # calendar month in Japan time


class LimitDefinition(Base):
    """One budget, quota or rate limit: at most ``amount`` of ``metric`` per ``window``."""

    __tablename__ = "limit_definitions"
    __table_args__ = (UniqueConstraint("scope", "subject_id", "metric", "window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[LimitScope] = mapped_column(_str_enum(LimitScope))
    subject_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[LimitMetric] = mapped_column(_str_enum(LimitMetric))
    window: Mapped[LimitWindow] = mapped_column(_str_enum(LimitWindow))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LimitCounter(Base):
    """How much of one limit's current window is used (reserved or spent), in integer units
    (requests, tokens, or millionths of a yen). The key names the limit and the window."""

    __tablename__ = "limit_counters"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)
    cap: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds


class UsageRecord(Base):
    """What one model call consumed."""

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    endpoint_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    endpoint_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(Boolean)
    cost_jpy: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(200))


class AuditRecord(Base):
    """One append-only audit entry. Never updated or deleted by hiraga."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_lane_id", "lane", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    action: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    endpoint_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    endpoint_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    classification: Mapped[int | None] = mapped_column(Integer, nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_jpy: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(4000), nullable=True)  # JSON text
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)  # from where (security events)
    prev_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lane: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # the chain lane; None: lane 1
