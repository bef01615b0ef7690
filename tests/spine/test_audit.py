"""Audit and usage records: written for every outcome, committed before ``record`` returns,
surviving a kill -9 right after it, and one bad record does not sink the others."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from hiraga.audit import keys as audit_keys
from hiraga.audit.chain import GENESIS
from hiraga.audit.verify import verify_chain
from hiraga.errors import TooManyRequests
from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.spine.call import CallOutcome, Classification, ModelCall, Outcome, Usage
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, UsageRecord
from hiraga.store.tables.usage import LimitDefinition, LimitMetric, LimitScope, LimitWindow
from hiraga.usage import ledger
from hiraga.usage.hooks import build_hooks

PRINCIPAL = Principal(user_id=7, email="hanako@example.jp", display_name="花子", via="api_key", api_key_id=3)


def a_call(**kwargs: object) -> ModelCall:
    return ModelCall(principal=PRINCIPAL, kind="chat", requested_model="default", team_id=5, **kwargs)  # type: ignore[arg-type]


def test_every_outcome_is_recorded_with_its_facts(settings: Settings, database: Database) -> None:
    outcomes = [
        CallOutcome(
            Outcome.OK,
            endpoint_id=1,
            endpoint_name="llm-jp",
            usage=Usage(120, 30),
            cost_jpy=Decimal("0.0195"),
            latency_ms=812.5,
            ttft_ms=95.0,
            attempts=1,
        ),
        CallOutcome(Outcome.REFUSED, error_code="classification_not_cleared"),
        CallOutcome(
            Outcome.FAILED,
            endpoint_id=2,
            endpoint_name="vllm-a",
            error_code="upstream_failed",
            attempts=3,
            latency_ms=30000.0,
        ),
        CallOutcome(Outcome.CANCELLED, endpoint_id=1, usage=Usage(120, 4, estimated=True), latency_ms=50.0),
    ]
    calls = [a_call(classification=Classification.LEVEL2, source="portal", stream=True) for _ in outcomes]

    async def scenario() -> None:
        hooks = build_hooks(settings, database)
        await asyncio.gather(*(hooks.record(c, o) for c, o in zip(calls, outcomes, strict=True)))
        await hooks.close()

    asyncio.run(scenario())
    with database.session() as db:
        audit = {row.request_id: row for row in db.scalars(select(AuditRecord))}
        usage = {row.request_id: row for row in db.scalars(select(UsageRecord))}
    assert set(audit) == set(usage) == {c.request_id for c in calls}
    for call, outcome in zip(calls, outcomes, strict=True):
        entry, used = audit[call.request_id], usage[call.request_id]
        assert (entry.outcome, used.outcome) == (outcome.outcome.value, outcome.outcome.value)
        assert (entry.actor_user_id, entry.actor_email, entry.via) == (7, "hanako@example.jp", "api_key")
        assert (entry.team_id, entry.api_key_id, entry.classification, entry.source) == (5, 3, 2, "portal")
        assert (entry.endpoint_name, entry.error_code) == (outcome.endpoint_name, outcome.error_code)
        assert (used.input_tokens, used.output_tokens) == (outcome.usage.input_tokens, outcome.usage.output_tokens)
        assert used.cost_jpy == entry.cost_jpy == outcome.cost_jpy
        assert used.estimated is outcome.usage.estimated
    chain = sorted(audit.values(), key=lambda r: r.id)
    assert chain[0].prev_hash == GENESIS
    assert [r.prev_hash for r in chain[1:]] == [r.hash for r in chain[:-1]]
    assert audit[calls[0].request_id].ttft_ms == 95.0
    assert json.loads(audit[calls[3].request_id].detail or "{}")["estimated_usage"] is True


def test_a_quota_refusal_is_audited_with_the_limit(settings: Settings, database: Database) -> None:
    with database.session() as db:
        db.add(
            LimitDefinition(
                scope=LimitScope.KEY,
                subject_id=3,
                metric=LimitMetric.REQUESTS,
                window=LimitWindow.MINUTE,
                amount=Decimal(0),
            )
        )
    call = a_call()

    async def scenario() -> TooManyRequests:
        hooks = build_hooks(settings, database)
        try:
            await hooks.admit(call)
        except TooManyRequests as refusal:
            outcome = CallOutcome(Outcome.REFUSED, error_code=refusal.code)
            await hooks.settle(call, outcome)
            await hooks.record(call, outcome)
            await hooks.close()
            return refusal
        raise AssertionError("a limit of zero must refuse")

    refusal = asyncio.run(scenario())
    assert refusal.message.startswith("API キー「3」の1分あたりのリクエスト数上限（0）")
    with database.session() as db:
        entry = db.scalars(select(AuditRecord)).one()
    assert (entry.outcome, entry.error_code) == ("refused", "rate_limited")
    assert json.loads(entry.detail or "{}")["limit"]["metric"] == "requests"


def test_one_bad_record_does_not_lose_the_others(settings: Settings, database: Database) -> None:
    good, duplicate = a_call(), a_call()
    duplicate.request_id = good.request_id  # usage_records.request_id is unique: the second insert fails

    async def scenario() -> list[BaseException | None]:
        hooks = build_hooks(settings, database)
        outcome = CallOutcome(Outcome.OK)
        others = [a_call() for _ in range(5)]
        results = await asyncio.gather(
            *(hooks.record(c, outcome) for c in [good, duplicate, *others]), return_exceptions=True
        )
        await hooks.close()
        return list(results)

    results = asyncio.run(scenario())
    assert sum(r is not None for r in results) == 1  # only the duplicate failed
    with database.session() as db:
        assert len(db.scalars(select(UsageRecord)).all()) == 6


def test_concurrent_calls_share_two_multi_row_inserts_and_keep_the_chain(
    settings: Settings, database: Database
) -> None:
    """Calls recorded together cost a batch two statements, not two each: the chain's lock (one per
    database, whatever the number of processes) is held for a moment per batch, so workers scale."""
    inserts: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            inserts.append(statement.split()[2])

    async def scenario() -> None:
        hooks = build_hooks(settings, database)
        await hooks.record(a_call(), CallOutcome(Outcome.OK))  # the ledger thread is up before the burst
        inserts.clear()
        await asyncio.gather(*(hooks.record(a_call(), CallOutcome(Outcome.OK, usage=Usage(3, 4))) for _ in range(40)))
        await hooks.close()

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        asyncio.run(scenario())
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert inserts.count("audit_records") <= 2 and inserts.count("usage_records") <= 2, inserts
    with database.session() as db:
        assert len(db.scalars(select(UsageRecord)).all()) == 41
        assert len(db.scalars(select(AuditRecord)).all()) == 41
    with database.engine.connect() as connection:
        report = verify_chain(connection, audit_keys.keys_for(settings))
    assert report.ok and report.records == 41, report.problem


def test_calls_one_at_a_time_keep_the_ledgers_connection(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At concurrency 1 every call is a batch of its own: it pays its statements and its commit, not
    also a pool checkout with a pre-ping round trip (issue 13, item 7: c=1 latency). A connection
    idle past ``IDLE_RECHECK_S`` is checked out afresh (and pinged) before the next batch."""
    checkouts: list[object] = []

    def checked_out(*_args: object) -> None:
        checkouts.append(_args[0])

    async def calls(n: int) -> None:
        for _ in range(n):
            await hooks.record(a_call(), CallOutcome(Outcome.OK, usage=Usage(3, 4)))

    hooks = build_hooks(settings, database)
    event.listen(database.engine, "checkout", checked_out)
    try:
        asyncio.run(calls(10))
        kept = len(checkouts)
        monkeypatch.setattr(ledger, "IDLE_RECHECK_S", -1.0)
        asyncio.run(calls(3))
    finally:
        event.remove(database.engine, "checkout", checked_out)
        hooks.ledger.close()
    assert kept == 1, kept  # the thread's one connection, taken at the first batch
    assert len(checkouts) == kept + 3
    with database.engine.connect() as connection:
        report = verify_chain(connection, audit_keys.keys_for(settings))
    assert report.ok and report.records == 13, report.problem


def test_a_record_acknowledged_before_kill_9_is_kept(settings: Settings, database: Database) -> None:
    program = textwrap.dedent(f"""
        import asyncio, os, signal
        from hiraga.settings import load_settings
        from hiraga.store.database import Database
        from hiraga.identity.principal import Principal
        from hiraga.spine.call import CallOutcome, ModelCall, Outcome, Usage
        from hiraga.usage.hooks import build_hooks

        async def main():
            settings = load_settings(data_dir={str(settings.data_dir)!r}, database_url={settings.database_url!r})
            hooks = build_hooks(settings, Database(settings.effective_database_url))
            principal = Principal(user_id=1, email="a@b.jp", display_name="a")
            call = ModelCall(principal=principal, kind="chat", requested_model="m", request_id="killed-call")
            await hooks.record(call, CallOutcome(Outcome.OK, usage=Usage(10, 2)))
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()
    with database.session() as db:
        entry = db.scalars(select(AuditRecord)).one()
        usage = db.scalars(select(UsageRecord)).one()
    assert entry.request_id == usage.request_id == "killed-call"
    assert usage.input_tokens == 10
