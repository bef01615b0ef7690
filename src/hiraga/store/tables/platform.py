"""Platform-wide settings that system administrators change at run time (no restart), as rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hiraga.store.tables.base import Base, UtcDateTime, utcnow


class PlatformSetting(Base):
    """One named setting (e.g. ``classification.default``) with its value as text and who set it."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a user id, kept after deletion
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
