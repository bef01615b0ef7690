"""Spine's last step: write down what happened to a model call, whatever happened.

One call gives one usage record and one audit record, inserted in the same transaction (through
the ledger, so concurrent calls share commits, and the rows of every call in a batch go in as two
multi-row inserts). ``record`` returns only once both are committed.
Audit rows are only ever inserted, at the end of the hash chain (``hiraga.audit.chain``). If they
cannot be written (full disk, database gone), ``record`` raises ``AuditUnavailable``: the call
fails closed rather than going unaudited.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert

from hiraga.audit.chain import append as append_audit
from hiraga.errors import ServiceUnavailable
from hiraga.spine.call import CallOutcome, ModelCall
from hiraga.store.tables.usage import AuditRecord, UsageRecord
from hiraga.usage.ledger import Ledger

MODEL_CALL_ACTION = "model_call"
USAGE = cast(Table, UsageRecord.__table__)
AUDIT = cast(Table, AuditRecord.__table__)


class AuditUnavailable(ServiceUnavailable):
    code = "audit_unavailable"
    message = (
        "監査記録を書き込めなかったため、この呼び出しは完了できませんでした。"
        "管理者にディスク容量とデータベースの状態を確認するよう依頼してください。"
    )


def usage_row(call: ModelCall, outcome: CallOutcome, at: datetime) -> dict[str, Any]:
    principal = call.principal
    return {
        "request_id": call.request_id,
        "created_at": at,
        "user_id": principal.user_id,
        "team_id": call.team_id,
        "api_key_id": principal.api_key_id,
        "kind": call.kind,
        "model": call.requested_model,
        "endpoint_id": outcome.endpoint_id,
        "endpoint_name": outcome.endpoint_name,
        "input_tokens": outcome.usage.input_tokens,
        "output_tokens": outcome.usage.output_tokens,
        "estimated": outcome.usage.estimated,
        "cost_jpy": outcome.cost_jpy,
        "latency_ms": outcome.latency_ms,
        "ttft_ms": outcome.ttft_ms,
        "outcome": outcome.outcome.value,
        "source": call.source,
    }


def audit_row(
    call: ModelCall, outcome: CallOutcome, at: datetime, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    principal = call.principal
    facts: dict[str, Any] = {"kind": call.kind, "stream": call.stream, "attempts": outcome.attempts}
    if outcome.upstream_model:
        facts["upstream_model"] = outcome.upstream_model
    if outcome.usage.estimated:
        facts["estimated_usage"] = True
    if outcome.pii_policy is not None:  # PII handling for an external endpoint: counts only, never values
        facts["pii"] = {"policy": outcome.pii_policy, "counts": dict(outcome.pii_counts)}
    if call.drawn_on:
        facts["classification_drawn_on"] = dict(call.drawn_on)
    facts.update(outcome.decisions)
    facts.update(detail or {})
    return {
        "occurred_at": at,
        "action": MODEL_CALL_ACTION,
        "request_id": call.request_id,
        "actor_user_id": principal.user_id,
        "actor_email": principal.email,
        "via": principal.via,
        "team_id": call.team_id,
        "api_key_id": principal.api_key_id,
        "model": call.requested_model,
        "endpoint_id": outcome.endpoint_id,
        "endpoint_name": outcome.endpoint_name,
        "classification": int(call.classification),
        "input_tokens": outcome.usage.input_tokens,
        "output_tokens": outcome.usage.output_tokens,
        "cost_jpy": outcome.cost_jpy,
        "outcome": outcome.outcome.value,
        "error_code": outcome.error_code,
        "latency_ms": outcome.latency_ms,
        "ttft_ms": outcome.ttft_ms,
        "source": call.source,
        "detail": json.dumps(facts, ensure_ascii=False, separators=(",", ":")),
    }


def insert_call_records(connection: Connection, calls: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """The (usage, audit) rows of many calls, in two statements."""
    if calls:
        connection.execute(insert(USAGE), [usage for usage, _ in calls])
        append_audit(connection, [audit for _, audit in calls])


class AuditTrail:
    """Writes the usage and audit records of model calls."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def record(self, call: ModelCall, outcome: CallOutcome, detail: dict[str, Any] | None = None) -> None:
        at = datetime.now(UTC)
        usage, audit = usage_row(call, outcome, at), audit_row(call, outcome, at, detail)
        try:
            await self.ledger.run_together(insert_call_records, (usage, audit))
        except Exception as error:
            raise AuditUnavailable(detail={"request_id": call.request_id}) from error
