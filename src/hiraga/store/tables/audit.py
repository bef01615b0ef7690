"""The audit chain's own tables: the head (the append lock) and signed checkpoints.

``audit_chain_head`` has one row per chain lane; every append updates one first, which takes that
row's lock on PostgreSQL (the write lock on SQLite), so appends to one lane queue up and a lane never
forks, while transactions on different lanes commit side by side (see ``hiraga.audit.chain``).
``audit_checkpoints`` holds HMAC-signed statements, per lane: what retention deleted (``retention``)
and which record an operator's verification ended at (``seal``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hiraga.store.tables.base import Base, UtcDateTime
from hiraga.store.tables.usage import BigId


class AuditChainHead(Base):
    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)  # bumped once by every appending transaction


class AuditCheckpoint(Base):
    """Records (after_id, through_id] — ``count`` of them — are gone; the chain before them ended
    at ``after_hash`` and the last of them had ``through_hash``. A seal has count 0 and says the
    record ``through_id`` had ``through_hash`` when it was verified."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # retention | seal
    after_id: Mapped[int] = mapped_column(BigInteger)
    after_hash: Mapped[str] = mapped_column(String(64))
    through_id: Mapped[int] = mapped_column(BigInteger, index=True)
    through_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signature: Mapped[str] = mapped_column(String(64))
    lane: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # None: lane 1
