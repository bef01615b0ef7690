"""Helpers for audit tests: a realistic record, the append helper's type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

Append = Callable[..., list[int]]


def record(i: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "occurred_at": datetime(2026, 4, 1, tzinfo=UTC) + timedelta(minutes=i),
        "action": "model_call",
        "request_id": f"req-{i}",
        "actor_user_id": 1 + i % 3,
        "actor_email": f"user{1 + i % 3}@example.go.jp",
        "team_id": 10 + i % 2,
        "model": "llm-jp-4" if i % 2 else "gpt-x",
        "endpoint_name": "vllm-a",
        "classification": 1 + i % 3,
        "input_tokens": 100 + i,
        "output_tokens": 20 + i,
        "cost_jpy": Decimal("0.0123456") * i,
        "outcome": "ok" if i % 4 else "refused",
        "latency_ms": 12.5 * i,
        "source": "portal" if i % 2 else "app:要約",
        "detail": '{"kind":"chat","pii":{"counts":{"person_name":1}}}',
    }
    return base | fields
