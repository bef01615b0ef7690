"""Wire models of /api/v1/apps: registering apps, running them, and keys for hiraga's own apps."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from hiraga.bounds import RowId
from hiraga.web.api.schemas import Request, Response

AppMode = Literal["sync", "async"]
AppStatus = Literal["draft", "published", "disabled"]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"


class AppCreate(Request):
    slug: str = Field(pattern=SLUG_PATTERN, description="URL に使う名前（英小文字・数字・-）")
    name: str = Field(min_length=1, max_length=200, description="アプリ名")
    description: str = Field(default="", max_length=20_000, description="説明（Markdown: 使い方・入力例）")
    endpoint_url: str = Field(max_length=2000, description="アプリの URL（POST 先）")
    api_key: SecretStr | None = Field(default=None, description="アプリの API キー（暗号化して保存、再表示なし）")
    form_definition: dict[str, Any] = Field(
        description="フォーム定義（textarea・text・select・checkbox・number・file）"
    )
    mode: AppMode = "sync"
    chat: bool = Field(default=False, description="チャット型（chat_history を送る）")
    timeout_seconds: int = Field(default=60, ge=1, le=3600)
    classification: int = Field(default=1, ge=1, le=3, description="機密性（1〜3）")
    external: bool = Field(default=False, description="組織外のサービスか")
    owner_team_id: RowId = Field(description="管理するチーム")
    team_ids: list[RowId] = Field(default_factory=list, description="公開先チーム")
    status: AppStatus = "draft"

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return value.strip()


class AppUpdate(Request):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    endpoint_url: str | None = Field(default=None, max_length=2000)
    api_key: SecretStr | None = Field(default=None, description="新しい API キー（省略時は変更なし）")
    form_definition: dict[str, Any] | None = None
    mode: AppMode | None = None
    chat: bool | None = None
    timeout_seconds: int | None = Field(default=None, ge=1, le=3600)
    classification: int | None = Field(default=None, ge=1, le=3)
    external: bool | None = None
    team_ids: list[RowId] | None = None
    status: AppStatus | None = None


class AppView(Response):
    id: int
    slug: str
    name: str
    description: str
    endpoint_url: str
    has_api_key: bool
    form_definition: dict[str, Any]
    mode: AppMode
    chat: bool
    timeout_seconds: int
    classification: int
    external: bool
    owner_team_id: int
    team_ids: list[int]
    status: AppStatus
    created_at: datetime
    updated_at: datetime

    @field_validator("form_definition", mode="before")
    @classmethod
    def _parsed(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class RunFile(Request):
    filename: str = Field(max_length=255)
    content: str = Field(description="base64")


class RunCreate(Request):
    inputs: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, list[RunFile]] = Field(default_factory=dict, description="ファイル項目名 → ファイル")
    chat_history: list[dict[str, str]] | None = None
    test_call: bool = Field(default=False, description="公開前のテスト実行（管理者のみ）")


class ArtifactInfo(Response):
    index: int
    display_name: str
    size: int


class RunView(Response):
    id: int
    request_id: str
    app_id: int
    app_name: str
    status: Literal["running", "ok", "failed"]
    progress: str
    test_call: bool
    outputs: str | None
    artifacts: list[ArtifactInfo]
    error_code: str | None
    error_message: str | None
    input_tokens: int
    output_tokens: int
    cost_jpy: Decimal
    created_at: datetime
    finished_at: datetime | None


class ProvidedApp(Response):
    name: str
    title: str
    description: str
    url_path: str = Field(description="プロトコルで呼ぶ URL のパス（POST）")
    form_definition: dict[str, Any]


class ProvidedKeyCreate(Request):
    app_name: str = Field(max_length=100, description="hiraga のアプリ名（例: summarise）")
    name: str = Field(min_length=1, max_length=100)
    team_id: RowId = Field(description="利用料金を計上するチーム")


class ProvidedKey(Response):
    id: int
    app_name: str
    name: str
    prefix: str
    team_id: int
    created_at: datetime
    revoked_at: datetime | None


class IssuedProvidedKey(ProvidedKey):
    secret: str = Field(description="x-api-key に使う値。この応答でのみ表示されます")
