"""MCP servers registered as tools (hiraga.mcp): the servers, their tools, which teams enabled which
tool, and every tool call a model asked for (with its approval)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hiraga.store.tables.base import Base, UtcDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class McpServer(Base):
    """A tool server a system administrator registered: Streamable HTTP (``url``) or stdio
    (``command``, only programs on the administrator's allow-list). ``clearance`` is the highest
    機密性 level a call may carry to it, like a model endpoint's."""

    __tablename__ = "mcp_servers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    transport: Mapped[str] = mapped_column(String(16), default="http")  # http | stdio
    url: Mapped[str] = mapped_column(String(500), default="")
    command: Mapped[list[str]] = mapped_column(JSON, default=list)
    headers_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of extra headers
    clearance: Mapped[int] = mapped_column(Integer, default=1)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=30.0)
    # how long a held call of this server's tools waits for approval; None: the platform's setting
    approval_ttl_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    tools: Mapped[list[McpTool]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin", order_by="McpTool.name"
    )


class McpTool(Base):
    """A tool a server listed. ``exposed_name`` is what models see (``<server>__<tool>``, unique);
    ``effect`` is the administrator's: ``read_only`` calls run at once, ``effectful`` ones (the
    default for a tool nobody judged) wait for the user's approval."""

    __tablename__ = "mcp_tools"
    __table_args__ = (UniqueConstraint("server_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("mcp_servers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    exposed_name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    input_schema: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    effect: Mapped[str] = mapped_column(String(16), default="effectful")  # read_only | effectful
    available: Mapped[bool] = mapped_column(Boolean, default=True)  # listed at the last refresh
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class McpToolTeam(Base):
    """A team administrator enabled the tool for the team."""

    __tablename__ = "mcp_tool_teams"

    tool_id: Mapped[int] = mapped_column(ForeignKey("mcp_tools.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class McpToolCall(Base):
    """One tool call a model asked for in a conversation or an app run: pending (waiting for approval until
    ``expires_at``), then approved / rejected / expired, and done / failed / refused."""

    __tablename__ = "mcp_tool_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_conversations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    task_run_id: Mapped[int | None] = mapped_column(  # a call held in a task or builder app run
        ForeignKey("portal_task_runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tool_id: Mapped[int | None] = mapped_column(ForeignKey("mcp_tools.id", ondelete="SET NULL"), nullable=True)
    tool_name: Mapped[str] = mapped_column(String(200))  # the exposed name the model used
    turn_id: Mapped[str] = mapped_column(String(32), index=True)  # the model's answer that asked for it
    call_id: Mapped[str] = mapped_column(String(200))  # the model's tool_call id
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # JSON, as the model (or the approver) gave them
    effect: Mapped[str] = mapped_column(String(16), default="effectful")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    classification: Mapped[int] = mapped_column(Integer, default=1)
    model: Mapped[str] = mapped_column(String(200), default="")  # the conversation's model when asked
    assistant_text: Mapped[str] = mapped_column(Text, default="")  # what the model said with the call
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")
    result_chars: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
