"""The chat page's tool-call decisions: the user who asked approves (possibly with edited
arguments) or rejects a held call; once no call of that answer waits, the model goes on and the
page comes back. The same for a held call of an app run (``decide_for_run``, used by the task and
builder pages). Thin: ``hiraga.mcp`` decides."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session

from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.identity.principal import Principal
from hiraga.mcp import chat_tools
from hiraga.mcp.wiring import toolbox_of
from hiraga.portal import chat
from hiraga.portal.models import ModelChoice, model_choices
from hiraga.web.api.mcp import go_on_with_run
from hiraga.web.api.portal import gateway_of
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.chat import conversation_context, reply_answer
from hiraga.web.pages.rendering import PagePrincipal, PageRoute, redirect, render_failure

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DECISIONS = frozenset({"approve", "edit", "reject"})


def edited_arguments(decision: str, arguments: str) -> dict[str, Any] | None:
    if decision not in DECISIONS:
        raise InvalidInput("承認・修正・却下のいずれかを選んでください。", detail={"field": "decision"})
    if decision != "edit":
        return None
    try:
        value = json.loads(arguments)
    except ValueError:
        raise InvalidInput("引数は JSON（{...}）で書いてください。", code="mcp_tool_bad_arguments") from None
    if not isinstance(value, dict):
        raise InvalidInput("引数はオブジェクト（{...}）で書いてください。", code="mcp_tool_bad_arguments")
    return value


@router.post("/chat/{conversation_id}/tool-calls/{call_id}")
async def decide(
    request: Request,
    conversation_id: RowId,
    call_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    decision: Annotated[str, Form()] = "",
    arguments: Annotated[str, Form()] = "",
) -> Any:
    ctx = app_context(request)
    await anyio.to_thread.run_sync(db.commit)
    try:
        row = await toolbox_of(ctx).decide(principal, call_id, decision, edited_arguments(decision, arguments))
    except HiragaError as error:
        choices = await model_choices(gateway_of(ctx), principal)
        context = await anyio.to_thread.run_sync(
            lambda: conversation_context(request, db, principal, conversation_id, choices)
        )
        return render_failure(request, db, "portal/conversation.html", error, lambda: context)
    settled = await anyio.to_thread.run_sync(lambda: chat_tools.settled_turn(db, principal, row.turn_id))
    if settled is None or row.conversation_id != conversation_id:
        return redirect(request, f"/chat/{conversation_id}#tool-calls")
    limit = ctx.settings.portal_max_output_tokens

    def prepare(choices: list[ModelChoice]) -> chat.ReplyPlan:
        return chat_tools.continued(chat.prepare_continue(db, principal, conversation_id, choices, limit), settled)

    return await reply_answer(request, db, principal, conversation_id, prepare)


def decision_form(decision: Annotated[str, Form()] = "", arguments: Annotated[str, Form()] = "") -> tuple[str, str]:
    """The decision form of a held call: (approve | edit | reject, the arguments as JSON text)."""
    return decision, arguments


DecisionForm = Annotated[tuple[str, str], Depends(decision_form)]


async def decide_for_run(
    request: Request, db: Session, principal: Principal, run_id: int, call_id: int, form: tuple[str, str]
) -> None:
    """Decide a held call of an app run (task or builder app); once no call of that model answer
    waits, the run goes on to its answer (kept in the run's row)."""
    decision, arguments = form
    ctx = app_context(request)
    await anyio.to_thread.run_sync(db.commit)
    row = await toolbox_of(ctx).decide(principal, call_id, decision, edited_arguments(decision, arguments))
    settled = await anyio.to_thread.run_sync(lambda: chat_tools.settled_turn(db, principal, row.turn_id))
    if settled is not None and row.task_run_id == run_id:
        await go_on_with_run(request, principal, run_id, settled)
