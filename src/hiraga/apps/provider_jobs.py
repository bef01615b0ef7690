"""Running hiraga's own apps for protocol callers: synchronously, or as jobs polled at ``status_url``.

Jobs live in the database (any process answers the poll). A job whose process died stays
unfinished in the table; its poll answers ERROR once its deadline has passed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from hiraga.apps import provider_side
from hiraga.apps.events import event_row, record_event
from hiraga.apps.protocol import JobStatus
from hiraga.apps.provider_side import App, AppResult, RunContext
from hiraga.errors import HiragaError, NotFound, UpstreamFailed
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.store.database import Database
from hiraga.store.tables import ProvidedAppJob

log = logging.getLogger("hiraga.apps")
SYNC_TIMEOUT_S = 300.0
JOB_TIMEOUT_S = 1800.0
RUN_ACTION = "provided_app_run"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: int
    team_id: int
    principal: Principal


@dataclass
class ProvidedRunner:
    database: Database
    apps: dict[str, App]
    gateway: Callable[[], Gateway | None]
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def app(self, name: str) -> App:
        return provider_side.lookup(self.apps, name)

    def authenticate(self, name: str, secret: str | None) -> Caller:
        self.app(name)
        with self.database.session() as db:
            key, principal = provider_side.key_holder(db, name, secret)
            return Caller(key.id, key.team_id, principal)

    async def _run(self, name: str, caller: Caller, inputs: dict[str, Any], files: list[Any] | None) -> AppResult:
        app = self.app(name)
        checked, uploads = provider_side.checked_request(app, inputs, files)
        context = RunContext(name, caller.principal, caller.team_id, self.gateway())
        return await app.run(checked, uploads, context)

    async def run_now(self, name: str, caller: Caller, inputs: dict[str, Any], files: list[Any] | None) -> Any:
        try:
            result = await asyncio.wait_for(self._run(name, caller, inputs, files), SYNC_TIMEOUT_S)
        except TimeoutError:
            error = UpstreamFailed("アプリが制限時間内に処理を終えませんでした。", code="app_timeout")
            await self._audit(name, caller, None, error)
            raise error from None
        except HiragaError as error:
            await self._audit(name, caller, None, error)
            raise
        await self._audit(name, caller, result, None)
        return provider_side.answer_body(result)

    async def accept(self, name: str, caller: Caller, inputs: dict[str, Any], files: list[Any] | None) -> str:
        """Start a job; returns its request id. Bad input is refused here, before the job exists."""
        app = self.app(name)
        provider_side.checked_request(app, inputs, files)
        request_id = uuid.uuid4().hex
        with self.database.session() as db:
            db.add(
                ProvidedAppJob(
                    request_id=request_id,
                    app_name=name,
                    key_id=caller.key_id,
                    status=JobStatus.PENDING.value,
                    deadline_at=datetime.now(UTC) + timedelta(seconds=JOB_TIMEOUT_S),
                )
            )
        task = asyncio.get_running_loop().create_task(self._job(request_id, name, caller, inputs, files))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return request_id

    async def _job(self, request_id: str, name: str, caller: Caller, inputs: dict[str, Any], files: Any) -> None:
        await asyncio.to_thread(self._set, request_id, status=JobStatus.IN_PROGRESS.value)
        try:
            result = await asyncio.wait_for(self._run(name, caller, inputs, files), JOB_TIMEOUT_S)
        except (HiragaError, TimeoutError, asyncio.CancelledError, Exception) as exc:
            error = exc if isinstance(exc, HiragaError) else HiragaError(provider_side.failure_text(exc))
            await asyncio.to_thread(self._set, request_id, status=JobStatus.ERROR.value, error=error.message[:1000])
            await self._audit(name, caller, None, error)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        answer = json.dumps(provider_side.answer_body(result), ensure_ascii=False)
        await asyncio.to_thread(self._set, request_id, status=JobStatus.COMPLETED.value, answer=answer)
        await self._audit(name, caller, result, None)

    def _set(self, request_id: str, **values: Any) -> None:
        with self.database.engine.begin() as connection:
            connection.execute(
                update(ProvidedAppJob)
                .where(ProvidedAppJob.request_id == request_id)
                .values(**values, updated_at=datetime.now(UTC))
            )

    def status(self, name: str, caller: Caller, request_id: str) -> dict[str, Any]:
        with self.database.session() as db:
            job = db.get(ProvidedAppJob, request_id)
            if job is None or job.app_name != name or job.key_id != caller.key_id:
                raise NotFound("指定された処理が見つかりません。", code="request_not_found")
            body: dict[str, Any] = {"status": job.status, "request_id": request_id}
            if job.status == JobStatus.COMPLETED.value and job.answer:
                answer: dict[str, Any] = json.loads(job.answer)
                return body | answer
            unfinished = job.status in (JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value)
            if unfinished and job.deadline_at < datetime.now(UTC):
                return body | {"status": JobStatus.ERROR.value, "error": "処理が中断されたか、時間切れになりました。"}
            if job.status == JobStatus.ERROR.value:
                body["error"] = job.error or "処理に失敗しました。"
            return body

    async def _audit(self, name: str, caller: Caller, result: AppResult | None, error: HiragaError | None) -> None:
        detail: dict[str, Any] = {"app": name, "key_id": caller.key_id}
        if result is not None:
            detail["cost_jpy"] = str(provider_side.total_cost(result))
            detail["models"] = [u.model_version for u in result.usage]
        row = event_row(
            caller.principal, RUN_ACTION, error=error, team_id=caller.team_id, subject=f"app:{name}", detail=detail
        )
        await asyncio.to_thread(record_event, self.database, row)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
