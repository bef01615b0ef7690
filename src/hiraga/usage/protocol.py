"""Wire models of the limits and usage APIs (/api/v1/limits, /api/v1/usage)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from hiraga.bounds import RowId
from hiraga.store.tables.usage import LimitMetric, LimitScope, LimitWindow
from hiraga.web.api.schemas import Request, Response


class LimitCreate(Request):
    scope: LimitScope = Field(strict=False, description="user（利用者）/ team（チーム）/ key（API キー）")
    subject_id: RowId = Field(description="対象の利用者・チーム・API キーの ID")
    metric: LimitMetric = Field(strict=False, description="requests（リクエスト数）/ tokens / cost_jpy（円）")
    window: LimitWindow = Field(strict=False, description="minute / day / month（日・月は日本時間の暦で区切る）")
    amount: Decimal = Field(strict=False, ge=0, description="上限値（cost_jpy は円）")


class LimitUpdate(Request):
    amount: Decimal = Field(strict=False, ge=0, description="新しい上限値")


class Limit(Response):
    id: int
    scope: LimitScope
    subject_id: int
    metric: LimitMetric
    window: LimitWindow
    amount: Decimal
    created_at: datetime
    updated_at: datetime


class UsageEntry(Response):
    id: int
    request_id: str
    created_at: datetime
    user_id: int
    team_id: int | None
    api_key_id: int | None
    kind: str
    model: str
    endpoint_id: int | None
    endpoint_name: str | None
    input_tokens: int
    output_tokens: int
    estimated: bool = Field(description="上流が使用量を返さず hiraga が数えた場合 true")
    cost_jpy: Decimal
    latency_ms: float | None
    ttft_ms: float | None
    outcome: str
    source: str


class UsageTotal(Response):
    key: str = Field(description="集計の単位（チーム ID・利用者 ID・モデル名・エンドポイント名）")
    requests: int
    input_tokens: int
    output_tokens: int
    cost_jpy: Decimal
