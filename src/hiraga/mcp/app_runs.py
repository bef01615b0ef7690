"""Tools in app runs: which tools a task or builder app run offers the model, how a run whose call
waits for approval is kept, and how it goes on once the user decided. Framework-free.

A run is offered tools only when the app opted in (a builder app's ``use_tools``, a task app's
``uses_tools``), the model is served (a built-in embedded model gets none) and the caller's teams
enabled tools on servers cleared for the run's 機密性. Calls take the chat's path (``ChatTools``:
the same checks, approvals, PII handling and audit records). A held run is kept in the user's task
history (status ``held``) with the messages sent so far; its calls point at it (``task_run_id``).
Once no call of that model answer waits, the run goes on from those messages plus the decided calls,
and its row is filled with the answer (or held again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from hiraga.errors import Conflict, HiragaError
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.mcp.calls import ToolBox
from hiraga.mcp.chat_tools import TOOLBOX_KEY, call_view, follow_messages, offer
from hiraga.portal import task_history
from hiraga.portal.models import ModelChoice, pick
from hiraga.portal.task_apps.base import PortalRunContext, result
from hiraga.portal.task_apps.tool_rounds import RunHeld, RunTools
from hiraga.portal.task_history import HELD, RunRecord
from hiraga.spine.call import Classification
from hiraga.store.database import Database
from hiraga.store.tables import McpToolCall, TaskRun
from hiraga.web.context import AppContext

RESUMING = "resuming"  # a held run whose decided calls are going back to the model


def tools_for(
    toolbox: ToolBox | None, db: Session, principal: Principal, choice: ModelChoice, level: int, max_rounds: int
) -> RunTools | None:
    """The tools a run may offer (None: none — no tool box, the embedded model, nothing enabled).
    Whether the app opted in is the caller's (``runner.prepare_task``, ``builder.run``)."""
    offered = offer(toolbox, db, principal, choice, (level, choice.name, max_rounds))
    return RunTools(*offered) if offered is not None else None


def tools_of(
    ctx: AppContext, db: Session, principal: Principal, choice: ModelChoice, level: int, *, opted_in: bool
) -> RunTools | None:
    """``tools_for`` with the running app's tool box and settings; nothing is looked up for an app
    that did not opt in (``opted_in``: the builder app's ``use_tools``, ``runner.task_uses_tools``)."""
    if not opted_in:
        return None
    return tools_for(ctx.extras.get(TOOLBOX_KEY), db, principal, choice, level, ctx.settings.mcp_max_tool_rounds)


def held_record(held: RunHeld, context: PortalRunContext) -> RunRecord:
    """What is kept of a run stopped by a call that waits: what the model said, and where it goes on."""
    waiting = list(context.tools.reply.notices) if context.tools else []
    return RunRecord(
        status=HELD,
        text="".join(context.partial),
        models=list(dict.fromkeys(u.model_version for u in context.usage)),
        notices=[*context.notices, *waiting],
        prompt=list(context.sent),
        classification=int(context.classification),
        requested_model=context.model,
        held={
            "messages": held.messages,
            "max_tokens": held.max_tokens,
            "window": context.context_window,
            "waiting": waiting,  # the notices that hold while a call waits (dropped when it goes on)
        },
    )


def held_calls(context: PortalRunContext) -> list[McpToolCall]:
    return list(context.tools.reply.tool_calls) if context.tools else []


def keep_held(database: Database, principal: Principal, app_name: str, excerpt: str, held: RunHeld) -> int:
    """Keep the held run in the user's history and tie its calls to it; returns the run's id."""
    context: PortalRunContext = held.context
    with database.session() as db:
        run_id = task_history.keep(db, principal, app_name, excerpt, held_record(held, context))
        link(db, principal, run_id, held_calls(context))
        return run_id


def link(db: Session, principal: Principal, run_id: int, rows: Sequence[McpToolCall]) -> None:
    ids = [row.id for row in rows]
    if ids:
        db.execute(
            update(McpToolCall)
            .where(McpToolCall.id.in_(ids), McpToolCall.user_id == principal.user_id)
            .values(task_run_id=run_id)
        )


def run_calls(db: Session, principal: Principal, run_id: int) -> list[dict[str, Any]]:
    """The tool calls of one run (for its page and the API), in order."""
    query = select(McpToolCall).where(McpToolCall.task_run_id == run_id, McpToolCall.user_id == principal.user_id)
    return [call_view(row) for row in db.scalars(query.order_by(McpToolCall.id))]


def _claim(database: Database, principal: Principal, run_id: int) -> TaskRun:
    """The held run, now ``resuming`` (an UPDATE that matches only a held run of the caller's, so two
    decisions that settle the same answer do not both go on)."""
    with database.session() as db:
        claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
            update(TaskRun)
            .where(TaskRun.id == run_id, TaskRun.user_id == principal.user_id, TaskRun.status == HELD)
            .values(status=RESUMING)
        )
        if not claimed.rowcount:
            raise Conflict("この実行は既に再開されています。", code="task_run_not_held")
        row = db.get(TaskRun, run_id)
        assert row is not None
        db.expunge(row)
        return row


async def resume(
    gateway: Gateway,
    toolbox: ToolBox,
    principal: Principal,
    run_id: int,
    settled: list[McpToolCall],
    choices: Sequence[ModelChoice],
    limits: tuple[int, int],
) -> RunRecord:
    """Go on with a held run from its messages plus the decided calls: the answer (kept in the run's
    row, status ok or failed), or held again by a new call. ``limits``: (answer tokens, tool rounds)."""
    database = toolbox.database
    row = await anyio.to_thread.run_sync(_claim, database, principal, run_id)
    kept = task_history.record_from_row(row)
    state = kept.held
    messages = [*state.get("messages", []), *follow_messages(settled[0].assistant_text, settled)]
    choice = pick(choices, kept.requested_model)
    with database.session() as db:
        tools = tools_for(toolbox, db, principal, choice, kept.classification, limits[1])
    context = PortalRunContext(
        app_name=row.app_name,
        principal=principal,
        team_id=min(principal.team_ids) if principal.team_ids else 0,
        gateway=gateway,
        model=choice.name,
        classification=Classification(kept.classification),
        context_window=state.get("window"),
        max_output_tokens=limits[0],
        tools=tools,
        notices=[n for n in kept.notices if n not in state.get("waiting", [])],
    )
    try:
        text = await context.chat(messages, max_tokens=int(state.get("max_tokens") or limits[0]))
    except RunHeld as held:
        record = held_record(held, context)
    except HiragaError as exc:  # the run must not stay ``resuming``: failed, with the reason
        record = RunRecord(task_history.FAILED, "".join(context.partial), error=exc.message)
    else:
        record = task_history.record_of(result(text.strip(), context))
    await anyio.to_thread.run_sync(_store, database, principal, run_id, record, held_calls(context), kept)
    return record


def _store(
    database: Database,
    principal: Principal,
    run_id: int,
    record: RunRecord,
    rows: list[McpToolCall],
    kept: RunRecord,
) -> None:
    record.prompt = kept.prompt or record.prompt  # the app's prompt stays the run's prompt
    record.models = list(dict.fromkeys([*kept.models, *record.models]))
    with database.session() as db:
        row = db.get(TaskRun, run_id)
        if row is None:  # removed meanwhile
            return
        task_history.fill(row, record)
        link(db, principal, run_id, rows)
        db.commit()


def run_view(record: RunRecord, run_id: int, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """An app run for the API (``AppRunResult``'s fields): the answer, or held with its calls."""
    return {
        "outputs": record.text,
        "models": record.models,
        "checks": record.checks,
        "changes": [{"before": c.before, "after": c.after, "reason": c.reason} for c in record.changes],
        "notices": record.notices,
        "status": record.status,
        "run_id": run_id,
        "tool_calls": calls,
    }
