"""Wire models of the portal API (/api/v1/conversations, /api/v1/task-apps, /api/v1/bots,
/api/v1/builder-apps). Requests are strict; responses show what the portal pages show."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hiraga.bounds import RowId
from hiraga.feedback_data.categories import API_HELP


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- conversations --------------------------------------------------------------------------------
class ConversationCreate(Request):
    model: str | None = Field(default=None, max_length=200, description="モデル名（省略時は既定のモデル）")
    classification: int | None = Field(default=None, ge=1, le=3, description="機密性（省略時は管理者の既定値）")
    bot_id: RowId | None = None
    title: str = Field(default="新しい会話", max_length=200)


class ConversationUpdate(Request):
    title: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    classification: int | None = Field(default=None, ge=1, le=3)
    bot_id: RowId | None = None


class MessageCreate(Request):
    content: str = Field(max_length=100_000)
    stream: bool = Field(default=False, description="true なら text/event-stream（model・delta・done イベント）")


class MessageEdit(MessageCreate):
    pass


class Regenerate(Request):
    stream: bool = False


class MessageView(Response):
    id: int
    position: int
    role: str
    content: str
    status: Literal["complete", "incomplete", "failed"]
    model_name: str | None
    builtin_model: bool
    error_message: str | None
    notices: list[str] = Field(default_factory=list)
    attachments: list[str] = Field(default_factory=list, description="添付ファイル名")
    created_at: datetime


class Conversation(Response):
    id: int
    title: str
    model: str
    classification: int
    bot_id: int | None
    created_at: datetime
    updated_at: datetime


class ConversationDetail(Conversation):
    messages: list[MessageView]


class ReplyView(BaseModel):
    message_id: int | None
    status: str
    content: str
    model_name: str | None
    builtin_model: bool
    error_message: str | None
    notices: list[str]


class FeedbackCreate(Request):
    rating: Literal["good", "bad"]
    comment: str = Field(default="", max_length=20_000)
    corrected_answer: str = Field(default="", max_length=20_000)
    category: str = Field(default="", max_length=64, description=API_HELP)


class FeedbackView(Response):
    message_id: int
    rating: str
    comment: str
    corrected_answer: str
    category: str
    model_name: str | None
    updated_at: datetime


# -- task apps and builder apps -------------------------------------------------------------------
class TaskAppView(BaseModel):
    name: str
    title: str
    description: str
    form: dict[str, Any]


class AppRunRequest(Request):
    inputs: dict[str, Any] = Field(default_factory=dict)
    files: list[dict[str, Any]] = Field(
        default_factory=list, description='[{"key", "files": [{"filename", "content"}]}]'
    )
    model: str | None = Field(default=None, max_length=200)
    classification: int | None = Field(default=None, ge=1, le=3)


class ChangeView(BaseModel):
    before: str
    after: str
    reason: str


class AppRunResult(BaseModel):
    outputs: str
    models: list[str] = Field(description="回答したモデル")
    checks: list[str] = Field(default_factory=list, description="コードによる確認の結果（警告）")
    changes: list[ChangeView] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    usage_metadata: list[dict[str, Any]] = Field(default_factory=list, serialization_alias="usageMetadata")
    status: str = Field(default="ok", description="ok、または held（ツール呼び出しが承認待ち: run_id の実行を保留）")
    run_id: int | None = Field(default=None, description="保留した実行（承認後に続きを実行）")
    tool_calls: list[dict[str, Any]] = Field(default_factory=list, description="この実行のツール呼び出し")


class BotCreate(Request):
    team_id: RowId
    name: str = Field(max_length=200)
    system_prompt: str = Field(max_length=8000)
    description: str = Field(default="", max_length=1000)


class Bot(Response):
    id: int
    team_id: int
    name: str
    description: str
    system_prompt: str
    created_at: datetime


class BuilderAppCreate(Request):
    name: str = Field(default="", max_length=200)
    template: str = Field(default="", max_length=20_000)
    description: str = Field(default="", max_length=2000)
    classification: int = Field(default=1, ge=1, le=3)
    use_tools: bool = Field(
        default=False, description="チームで有効な MCP ツールをモデルに渡す（承認はチャットと同じ）"
    )
    owner_team_id: RowId
    team_ids: list[RowId]
    format: str | None = Field(default=None, description="書き出した JSON をそのまま送る場合（hiraga.builder-app/1）")


class BuilderApp(Response):
    id: int
    name: str
    description: str
    template: str
    classification: int
    use_tools: bool = False
    owner_team_id: int
    team_ids: list[int]
    form: dict[str, Any]
    created_at: datetime
