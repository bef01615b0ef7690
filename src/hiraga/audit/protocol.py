"""Wire models of the audit API (/api/v1/audit)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from hiraga.web.api.schemas import Response


class AuditEntry(Response):
    id: int = Field(description="記録の通し番号（チェーンの順序）")
    occurred_at: datetime
    action: str = Field(description="model_call（モデル呼び出し）・app_run（アプリ実行）など")
    request_id: str | None
    actor_user_id: int | None
    actor_email: str | None
    via: str | None
    team_id: int | None
    api_key_id: int | None
    model: str | None
    endpoint_id: int | None
    endpoint_name: str | None
    classification: int | None = Field(description="機密性（1〜3）")
    input_tokens: int
    output_tokens: int
    cost_jpy: Decimal
    outcome: str
    error_code: str | None
    latency_ms: float | None
    ttft_ms: float | None
    source: str | None = Field(description="api・portal・app:<アプリ名>・rag:<ナレッジ>")
    detail: str | None = Field(description="判断の根拠・操作の内容（JSON 文字列。個人情報は件数のみ）")
    client_address: str | None = Field(description="操作元のアドレス（ログイン・管理操作など）")
    prev_hash: str | None
    hash: str | None
    lane: int | None = Field(default=None, description="チェーンのレーン（空欄はレーン 1）")


class VerifyResult(Response):
    ok: bool
    records: int = Field(description="検証した記録の数")
    pruned: int = Field(description="保存期間により削除され、署名付きチェックポイントで確認した記録の数")
    seals: int = Field(description="確認したシール（検証済みの印）の数")
    last_id: int | None
    tip: str = Field(description="チェーン末尾のハッシュ")
    lanes: int = Field(default=0, description="記録のあるレーンの数（レーンごとに独立した鎖として検証）")
    problem_code: str | None = None
    problem: str | None = Field(default=None, description="最初に見つかった問題（日本語）")
    record_id: int | None = Field(default=None, description="最初に問題が見つかった記録の ID")
    checkpoint_id: int | None = None
