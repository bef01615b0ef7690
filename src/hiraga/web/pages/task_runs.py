"""Task apps like chat: a run streamed to the page as SSE (``progress`` steps, ``model``, ``delta``
pieces, then ``done`` with the result's HTML), stopped when the user presses 停止 (the client goes
away); each run, finished, stopped or failed, kept in the user's history (/tasks/{name}/runs/{id})
with its files downloadable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hiraga.bounds import RowId
from hiraga.errors import HiragaError
from hiraga.feedback_data import policy as feedback_policy
from hiraga.feedback_data import task_feedback
from hiraga.identity.principal import Principal
from hiraga.mcp import app_runs
from hiraga.portal import task_history
from hiraga.portal.markdown import render_markdown
from hiraga.portal.models import BUILTIN_NOTE, ModelChoice
from hiraga.portal.task_apps import runner
from hiraga.portal.task_apps.proofread import diff_runs
from hiraga.portal.task_apps.tool_rounds import RunHeld
from hiraga.portal.task_history import RunRecord
from hiraga.store.database import Database
from hiraga.store.tables import McpToolCall
from hiraga.web.api.portal import sse
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PagePrincipal, PageRoute, redirect, render
from hiraga.web.v1.answers import SSE_HEADERS, until_disconnect

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STOPPED_NOTE = "実行を停止しました。途中までの出力です。"


def result_view(record: RunRecord, choices: list[ModelChoice]) -> dict[str, Any]:
    """What the result section shows of a run (now or from the history)."""
    builtin = {c.name for c in choices if c.builtin} | {a for c in choices if c.builtin for a in c.alias_of}
    return {
        "status": record.status,
        "error": record.error,
        "models": record.models,
        "builtin": any(m in builtin for m in record.models),
        "notices": record.notices,
        "checks": record.checks,
        "changes": record.changes,
        "rule_notes": record.rule_notes,
        "artifacts": record.artifacts,
        "diff": diff_runs(record.source_text, record.changes) if record.changes else [],
    }


def result_context(
    name: str,
    record: RunRecord,
    choices: list[ModelChoice],
    run_id: int,
    training_notice: str | None = None,
    tool_calls: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """What the result section of a run needs (the page after a run, a kept run, the SSE ``done``);
    with ``training_notice`` (``notice_of``) and a run a model answered, the 👍/👎 form under it;
    with ``tool_calls``, the run's calls (a held one with its approve / edit / reject form)."""
    rate = training_notice is not None and task_feedback.can_rate(name, record)
    return {
        "tool_calls": list(tool_calls),
        "result": result_view(record, choices),
        "result_html": render_markdown(record.text),
        "builtin_note": BUILTIN_NOTE,
        "run_url": f"/tasks/{name}/runs/{run_id}",
        "run_feedback": {"given": record.feedback or None, "notice": training_notice} if rate else None,
    }


def notice_of(db: Session, principal: Principal, record: RunRecord) -> str:
    """What the user is told next to a run's 👍/👎: whether the feedback may become training data."""
    return feedback_policy.notice_for(db, principal, record.classification or 1)


def result_fragment(request: Request, name: str, record: RunRecord, choices: list[ModelChoice], kept: KeptRun) -> str:
    context = result_context(name, record, choices, kept.run_id, kept.training_notice, kept.tool_calls)
    return bytes(render(request, "portal/_task_result.html", context).body).decode()


@dataclass(frozen=True, slots=True)
class KeptRun:
    run_id: int
    training_notice: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


def keep_run(
    database: Database,
    principal: Principal,
    name: str,
    excerpt: str,
    record: RunRecord,
    artifacts: list[Any],
    calls: Sequence[McpToolCall] = (),
) -> KeptRun:
    """Keep the run in the user's history (with the tool calls it made, when it made some)."""
    with database.session() as db:
        run_id = task_history.keep(db, principal, name, excerpt, record, artifacts)
        if not calls:
            return KeptRun(run_id, notice_of(db, principal, record))
        app_runs.link(db, principal, run_id, calls)
        return KeptRun(run_id, notice_of(db, principal, record), app_runs.run_calls(db, principal, run_id))


class PageEvents:
    """The run's TaskEvents, sent as SSE once the response has started (``bind``)."""

    def __init__(self) -> None:
        self._send: Send | None = None
        self.models: list[str] = []

    def bind(self, send: Send) -> None:
        self._send = send

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        if self._send is not None:
            await self._send({"type": "http.response.body", "body": sse(event, data), "more_body": True})

    async def progress(self, step: str) -> None:
        await self.emit("progress", {"step": step})

    async def model(self, name: str, builtin: bool) -> None:
        self.models.append(name)
        await self.emit("model", {"name": name, "builtin": builtin, "note": BUILTIN_NOTE if builtin else None})

    async def delta(self, text: str) -> None:
        await self.emit("delta", {"text": text})


class TaskStream(Response):
    """One run as SSE. The client leaving (停止) cancels the model call; what came is kept."""

    def __init__(self, request: Request, prepared: runner.PreparedTask, events: PageEvents, **run: Any) -> None:
        super().__init__(media_type="text/event-stream")
        self.request, self.prepared, self.events = request, prepared, events
        self.name: str = run["name"]
        self.choices: list[ModelChoice] = run["choices"]
        self.excerpt: str = run["excerpt"]
        self.principal = prepared.context.principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = app_context(self.request)
        events, prepared = self.events, self.prepared
        events.bind(send)
        headers = [*SSE_HEADERS, (b"x-content-type-options", b"nosniff")]

        async def work() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            record, artifacts = RunRecord(task_history.STOPPED, "", error=STOPPED_NOTE), []
            try:
                result = await runner.execute(prepared)
                record, artifacts = task_history.record_of(result), list(result.artifacts)
            except RunHeld as held:
                record = app_runs.held_record(held, prepared.context)
            except HiragaError as error:
                record = RunRecord(task_history.FAILED, "", error=error.message)
            finally:
                if record.status not in (task_history.OK, task_history.HELD):
                    record.text, record.models = "".join(prepared.context.partial), events.models
                with anyio.CancelScope(shield=True):
                    kept = await anyio.to_thread.run_sync(self._keeper(ctx.database, record, artifacts))
            html = result_fragment(self.request, self.name, record, self.choices, kept)
            await events.emit("done", {"html": html, "run_id": kept.run_id, "status": record.status})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            await until_disconnect(receive, work)
        except OSError:
            return

    def _keeper(self, database: Database, record: RunRecord, artifacts: list[Any]) -> Callable[[], KeptRun]:
        calls = app_runs.held_calls(self.prepared.context)  # also those of a stopped or failed run
        return lambda: keep_run(database, self.principal, self.name, self.excerpt, record, artifacts, calls)


@router.post("/tasks/{name}/runs/{run_id}/feedback")
def give_feedback(
    request: Request,
    name: str,
    run_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    rating: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    corrected_answer: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
) -> Response:
    """The 👍/👎 form under a run (the 理由 select counts only with 👎); bad input: 400, another's run: 404."""
    chosen = category if rating == "bad" else ""
    feedback = task_feedback.RunFeedback(rating, comment, corrected_answer, chosen)
    task_feedback.give(db, principal, name, run_id, feedback)
    return redirect(request, f"/tasks/{name}/runs/{run_id}?notice=feedback_saved#result")


@router.get("/tasks/{name}/runs/{run_id}/files/{index}")
def download(name: str, run_id: RowId, index: int, db: DbSession, principal: PagePrincipal) -> Response:
    filename, content = task_history.artifact(task_history.get(db, principal, name, run_id), index)
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    headers = {"content-disposition": disposition, "x-content-type-options": "nosniff"}
    return Response(content, media_type="application/octet-stream", headers=headers)
