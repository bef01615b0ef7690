"""The model registry: endpoints, which teams may use them, and aliases that map to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hiraga.store.tables.base import Base, UtcDateTime, utcnow


class ModelEndpoint(Base):
    """One model reachable through one provider. ``name`` is what users see and ask for."""

    __tablename__ = "model_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    provider: Mapped[str] = mapped_column(String(50))  # entry point name in ``hiraga.providers``
    kind: Mapped[str] = mapped_column(String(20), default="chat")  # "chat" | "embeddings" | "rerank"
    base_url: Mapped[str] = mapped_column(String(500), default="")
    upstream_model: Mapped[str] = mapped_column(String(200), default="")
    api_version: Mapped[str | None] = mapped_column(String(40), nullable=True)  # Azure OpenAI form
    model_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # operator GGUF file
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    context_window: Mapped[int] = mapped_column(Integer, default=4096)
    price_input_per_1k: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0"))
    price_output_per_1k: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0"))
    clearance: Mapped[int] = mapped_column(Integer, default=1)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    # what happens to personal data sent to an external endpoint: "mask" | "block" | "allow"
    pii_policy: Mapped[str] = mapped_column(String(16), default="mask", server_default="mask")
    all_teams: Mapped[bool] = mapped_column(Boolean, default=False)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=60.0)
    max_concurrent: Mapped[int] = mapped_column(Integer, default=0)  # 0 = unlimited
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    teams: Mapped[list[ModelEndpointTeam]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class ModelEndpointTeam(Base):
    """A team allowed to use an endpoint (ignored when the endpoint is open to all teams)."""

    __tablename__ = "model_endpoint_teams"

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("model_endpoints.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class ModelAlias(Base):
    """``name`` → endpoint, tried by ascending ``priority``; equal priorities are replicas."""

    __tablename__ = "model_aliases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("model_endpoints.id", ondelete="CASCADE"), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
