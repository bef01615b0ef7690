"""Runs of registered apps: checked inputs → budget admission → the call → one transaction that
finishes the run in the user's history, adds each ``usageMetadata`` entry to the usage records
(so app spending counts against the team's budget, next to gateway usage) and writes the audit
record. A failure is written the same way (no usage, the error in the run and the audit record).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from hiraga.apps import forms, registry
from hiraga.apps.client import AppClient, AppTarget
from hiraga.apps.events import event_row, insert_event, record_event
from hiraga.apps.pii import prepare_app_call
from hiraga.apps.protocol import AppAnswer, UsageEntry
from hiraga.errors import HiragaError
from hiraga.gateway.secrets import SecretBox
from hiraga.identity.principal import Principal
from hiraga.spine.audit import USAGE, audit_row, usage_row
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import CallOutcome, Classification, ModelCall, Outcome, Usage
from hiraga.spine.policy import Reservation
from hiraga.store.database import Database
from hiraga.store.tables import AppRun, RegisteredApp
from hiraga.usage.hooks import UsageHooks

log = logging.getLogger("hiraga.apps")
RUNS = cast(Table, AppRun.__table__)
RUN_ACTION = "app_run"
COUNTED_CURRENCIES = frozenset({"JPY", "YEN", "円"})


@dataclass(frozen=True, slots=True)
class RunRequest:
    values: dict[str, Any]
    uploads: dict[str, list[forms.Upload]] = field(default_factory=dict)
    chat_history: list[dict[str, str]] | None = None
    test_call: bool = False
    from_text: bool = False


@dataclass(slots=True)
class PreparedRun:
    """Everything a run needs, read while the request's transaction was open."""

    principal: Principal
    app_id: int
    slug: str
    name: str
    external: bool
    classification: int
    team_id: int
    test_call: bool
    target: AppTarget
    body: dict[str, Any]
    inputs_summary: str
    call: ModelCall
    pii: dict[str, Any] | None = None  # external apps: {"policy", "counts"} for the audit record


def summarise_inputs(checked: forms.CheckedInputs) -> str:
    files = {g.key: [f.filename for f in g.files] for g in checked.files}
    return json.dumps({"inputs": checked.inputs, "files": files}, ensure_ascii=False)[:20_000]


def prepare(principal: Principal, app: RegisteredApp, request: RunRequest, box: SecretBox) -> PreparedRun:
    """Check who may run what with which inputs; raises (and writes nothing) when not."""
    team_id = registry.charged_team(principal, app, test_call=request.test_call)
    checked = forms.check_inputs(
        registry.definition_of(app), request.values, request.uploads, from_text=request.from_text
    )
    inputs: dict[str, Any] = dict(checked.inputs)
    if checked.files:
        inputs["files"] = [g.model_dump() for g in checked.files]
    if app.chat:
        inputs["chat_history"] = list(request.chat_history or [])
    key = box.decrypt(app.api_key_encrypted) if app.api_key_encrypted else None
    call = ModelCall(
        principal=principal,
        kind="app",
        requested_model=f"app:{app.slug}",
        classification=Classification(app.classification),
        team_id=team_id,
        max_output_tokens=0,
        source=f"app:{app.slug}",
    )
    return PreparedRun(
        principal=principal,
        app_id=app.id,
        slug=app.slug,
        name=app.name,
        external=app.external,
        classification=app.classification,
        team_id=team_id,
        test_call=request.test_call,
        target=AppTarget(app.endpoint_url, key, float(app.timeout_seconds)),
        body={"inputs": inputs},
        inputs_summary=summarise_inputs(checked),
        call=call,
    )


# -- the rows a finished run writes ----------------------------------------------------------------
def cost_of(entry: UsageEntry) -> tuple[Decimal, Decimal | None]:
    """(JPY counted, unconverted amount when the app reported another currency)."""
    info = entry.estimated_cost_info
    if info is None:
        return Decimal(0), None
    if info.currency.strip().upper() in COUNTED_CURRENCIES:
        return info.estimated_cost, None
    return Decimal(0), info.estimated_cost


def totals(answer: AppAnswer | None) -> CallOutcome:
    outcome = CallOutcome(outcome=Outcome.OK if answer else Outcome.FAILED)
    if answer is None:
        return outcome
    for entry in answer.usage_metadata:
        outcome.usage.input_tokens += entry.tokens.input_tokens
        outcome.usage.output_tokens += entry.tokens.output_tokens
        outcome.cost_jpy += cost_of(entry)[0]
    return outcome


def usage_rows(run: PreparedRun, answer: AppAnswer, at: datetime, latency_ms: float) -> list[dict[str, Any]]:
    entries = answer.usage_metadata or [UsageEntry(model_version=run.call.requested_model)]
    rows = []
    for index, entry in enumerate(entries):
        outcome = CallOutcome(
            outcome=Outcome.OK,
            endpoint_name=run.call.requested_model,
            usage=Usage(entry.tokens.input_tokens, entry.tokens.output_tokens),
            cost_jpy=cost_of(entry)[0],
            latency_ms=latency_ms,
        )
        row = usage_row(run.call, outcome, at)
        row["request_id"] = f"{run.call.request_id}-{index}"
        row["model"] = entry.model_version[:200]
        rows.append(row)
    return rows


def run_audit_row(
    run: PreparedRun, outcome: CallOutcome, at: datetime, answer: AppAnswer | None, error: HiragaError | None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"app_id": run.app_id, "app": run.slug, "external": run.external}
    if run.test_call:
        detail["test_call"] = True
    if run.pii is not None:  # counts only, never values
        detail["pii"] = run.pii
    if answer is not None:
        detail["models"] = [e.model_version for e in answer.usage_metadata]
        unconverted = [
            str(c[1]) + " " + (e.estimated_cost_info.currency if e.estimated_cost_info else "")
            for e in answer.usage_metadata
            if (c := cost_of(e))[1] is not None
        ]
        if unconverted:
            detail["unconverted_costs"] = unconverted
    if error is not None:
        detail["message"] = error.message
    row = audit_row(run.call, outcome, at, detail)
    row["action"] = RUN_ACTION
    row["endpoint_name"] = run.call.requested_model
    return row


def finish_rows(
    connection: Connection, run_id: int, run: PreparedRun, answer: AppAnswer | None, error: HiragaError | None
) -> None:
    at = datetime.now(UTC)
    latency_ms = (time.monotonic() - run.call.started_at) * 1000
    outcome = totals(answer)
    outcome.latency_ms = latency_ms
    values: dict[str, Any] = {"finished_at": at, "progress": ""}
    if answer is not None:
        artifacts = [a.model_dump() for a in answer.artifacts]
        values |= {
            "status": "ok",
            "outputs": answer.outputs,
            "artifacts": json.dumps(artifacts, ensure_ascii=False) if artifacts else None,
            "input_tokens": outcome.usage.input_tokens,
            "output_tokens": outcome.usage.output_tokens,
            "cost_jpy": outcome.cost_jpy,
        }
        connection.execute(insert(USAGE), usage_rows(run, answer, at, latency_ms))
    else:
        assert error is not None
        outcome.outcome = Outcome.REFUSED if error.status < 500 else Outcome.FAILED
        outcome.error_code = error.code
        values |= {"status": "failed", "error_code": error.code, "error_message": error.message[:1000]}
    connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))
    insert_event(connection, run_audit_row(run, outcome, at, answer, error))


# -- the runtime -------------------------------------------------------------------------------------
@dataclass
class AppRuntime:
    """Starts and finishes runs; background runs are tracked so shutdown can end them cleanly."""

    database: Database
    box: SecretBox
    client: AppClient
    hooks: Callable[[], UsageHooks | None]
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def begin(self, app: RegisteredApp, principal: Principal, request: RunRequest) -> tuple[int, PreparedRun]:
        """Prepare and store the run as ``running`` (its own transaction); refusals are audited."""
        try:
            run = prepare(principal, app, request, self.box)
        except HiragaError as error:
            record_event(
                self.database,
                event_row(principal, RUN_ACTION, error=error, subject=f"app:{app.slug}", detail={"app_id": app.id}),
            )
            raise
        with self.database.engine.begin() as connection:
            result = connection.execute(
                insert(RUNS).values(
                    request_id=run.call.request_id,
                    app_id=run.app_id,
                    app_name=run.name,
                    user_id=principal.user_id,
                    team_id=run.team_id,
                    test_call=run.test_call,
                    status="running",
                    progress="",
                    inputs=run.inputs_summary,
                    input_tokens=0,
                    output_tokens=0,
                    cost_jpy=0,
                    created_at=datetime.now(UTC),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            run_id = int(key[0])
        return run_id, run

    async def execute(self, run_id: int, run: PreparedRun) -> HiragaError | None:
        """Admission, the call, and the finishing transaction; returns the error, if any."""
        hooks = self.hooks()
        reservation: Reservation | None = None
        answer: AppAnswer | None = None
        error: HiragaError | None = None
        try:
            if hooks is not None:
                reservation = await hooks.admission.admit(run.call)
            sent = await prepare_app_call(run.body, external=run.external)
            run.pii = sent.audit_detail
            answer = sent.restore(await self.client.call(run.target, sent.body, self._progress(run_id)))
        except HiragaError as exc:
            error = exc
        except asyncio.CancelledError:
            error = HiragaError("処理が中断されました。", code="app_run_cancelled")
            raise
        except Exception:
            log.exception("app %s failed unexpectedly", run.slug)
            error = HiragaError("アプリの呼び出し中に予期しないエラーが発生しました。", code="app_internal_error")
        finally:
            if hooks is not None and reservation is not None:
                await hooks.admission.settle(reservation, totals(answer))
            await self._write(lambda c: finish_rows(c, run_id, run, answer, error))
        return error

    def _progress(self, run_id: int) -> Callable[[str], Awaitable[None]]:
        async def report(status: str) -> None:
            await self._write(lambda c: c.execute(update(RUNS).where(RUNS.c.id == run_id).values(progress=status)))

        return report

    async def _write(self, work: Callable[[Connection], Any]) -> None:
        hooks = self.hooks()
        if hooks is not None:
            await hooks.ledger.run(work)
            return

        def direct() -> None:
            with self.database.engine.begin() as connection:
                work(connection)

        await asyncio.to_thread(direct)

    def start(self, run_id: int, run: PreparedRun) -> None:
        task = asyncio.get_running_loop().create_task(self.execute(run_id, run))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def my_runs(db: Session, scope: AccessScope, app_id: int, limit: int = 50) -> Sequence[AppRun]:
    query = select(AppRun).where(AppRun.app_id == app_id, AppRun.user_id == scope.principal.user_id)
    return list(db.scalars(query.order_by(AppRun.id.desc()).limit(limit)))
