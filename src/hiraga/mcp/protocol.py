"""Wire schemas of /api/v1/mcp: registered MCP servers, their tools, team enablement and tool calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hiraga.bounds import RowId

Effect = Literal["read_only", "effectful"]
SERVER_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,29}$"
APPROVAL_TTL = "承認の有効期限（秒、30〜86,400）。省略するとプラットフォームの既定（HIRAGA_MCP_APPROVAL_TTL_SECONDS）"


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerCreate(Request):
    name: str = Field(pattern=SERVER_NAME_PATTERN, description="英小文字で始まる英小文字・数字・_・-（30 字まで）")
    description: str = Field(default="", max_length=500)
    transport: Literal["http", "stdio"] = "http"
    url: str = Field(default="", max_length=500, description="Streamable HTTP の URL（transport=http）")
    command: list[str] = Field(
        default_factory=list, max_length=32, description="起動するコマンドと引数（transport=stdio、許可リストのみ）"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="接続時に付けるヘッダー（暗号化して保存）")
    clearance: int = Field(default=1, ge=1, le=3, description="このサーバーに渡してよい機密性の上限")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    approval_ttl_seconds: int | None = Field(default=None, ge=30, le=86_400, description=APPROVAL_TTL)


class ServerUpdate(Request):
    description: str | None = Field(default=None, max_length=500)
    clearance: int | None = Field(default=None, ge=1, le=3)
    timeout_seconds: float | None = Field(default=None, gt=0, le=600)
    approval_ttl_seconds: int | None = Field(default=None, ge=0, le=86_400, description=APPROVAL_TTL + "。0 で既定")
    enabled: bool | None = None


class ToolView(BaseModel):
    id: int
    server: str
    name: str
    exposed_name: str
    description: str
    input_schema: dict[str, Any]
    effect: Effect
    available: bool
    teams: list[int] = Field(default_factory=list)


class ServerView(BaseModel):
    id: int
    name: str
    description: str
    transport: str
    url: str
    command: list[str]
    clearance: int
    timeout_seconds: float
    approval_ttl_seconds: int | None
    enabled: bool
    tools: list[ToolView] = Field(default_factory=list)


class RefreshResult(BaseModel):
    server: ServerView
    added: list[str]
    removed: list[str]
    skipped: list[str] = Field(description="名前が他のツールと重なる・使えない文字を含むため登録しなかったツール")


class ToolEffect(Request):
    effect: Effect


class ToolTeam(Request):
    team_id: RowId
    enabled: bool


class ToolCallView(BaseModel):
    id: int
    conversation_id: int | None
    tool: str
    server: str | None
    arguments: dict[str, Any]
    effect: Effect
    status: str
    classification: int
    expires_at: datetime | None
    decided_at: datetime | None
    result: str
    result_chars: int
    duration_ms: float | None
    error_message: str | None


class Decision(Request):
    decision: Literal["approve", "edit", "reject"]
    arguments: dict[str, Any] | None = Field(default=None, description="decision=edit のときの引数（ツールの形式）")
