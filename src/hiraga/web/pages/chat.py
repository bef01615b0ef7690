"""The chat pages: conversation list with search, a conversation with its messages, sending
(streamed as SSE when the page's script asks for it, a plain form post otherwise), regenerate,
edit and resend, rename, settings, delete, feedback; and the bots page for team admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.apps.forms import Upload
from hiraga.bounds import RowId
from hiraga.errors import HiragaError
from hiraga.feedback_data import policy as feedback_policy
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.mcp import chat_tools
from hiraga.portal import bots, catalogue, chat, conversations, feedback
from hiraga.portal.markdown import render_markdown
from hiraga.portal.models import BUILTIN_NOTE, ModelChoice, default_model, model_choices, pick
from hiraga.spine.authorize import AccessScope
from hiraga.web.api.portal import ReplyStream, gateway_of, in_thread
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PagePrincipal, PageRoute, PageScope, redirect, render, render_failure

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LEVELS = [(1, "機密性1（公開情報など）"), (2, "機密性2（職員限りの情報）"), (3, "機密性3（秘密文書に相当）")]
Prepare = Callable[[list[ModelChoice]], chat.ReplyPlan]


def message_views(db: Session, principal: Principal, messages: list[Any]) -> list[dict[str, Any]]:
    given = feedback.given_for(db, principal, messages)
    return [
        {
            "row": m,
            "html": render_markdown(m.content) if m.role == "assistant" else None,
            "notices": conversations.notices_of(m),
            "feedback": given.get(m.id),
        }
        for m in messages
    ]


def chat_context(
    request: Request, db: Session, principal: Principal, choices: list[ModelChoice], **extra: Any
) -> dict[str, Any]:
    q = request.query_params.get("q", "")[:200]
    return {
        "conversations": conversations.list_for(db, principal, q),
        "q": q,
        "choices": choices,
        "levels": LEVELS,
        "default_level": app_context(request).settings.default_classification,
        "bots": bots.list_usable(db, principal),
        "builtin_note": BUILTIN_NOTE,
        **extra,
    }


def conversation_context(
    request: Request,
    db: Session,
    principal: Principal,
    conversation_id: RowId,
    choices: list[ModelChoice],
    **extra: Any,
) -> dict[str, Any]:
    row = conversations.get(db, principal, conversation_id)
    current = next((c for c in choices if c.name == row.model), None)
    return chat_context(
        request,
        db,
        principal,
        choices,
        conversation=row,
        current_model=current,
        messages=message_views(db, principal, list(row.messages)),
        training_notice=feedback_policy.notice_for(db, principal, row.classification),
        tool_calls=chat_tools.latest_calls(db, principal, row),
        **extra,
    )


@router.get("/chat")
async def chat_home(request: Request, db: DbSession, principal: PagePrincipal) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    context = await in_thread(db, lambda: chat_context(request, db, principal, choices))
    return render(request, "portal/chat.html", context)


@router.post("/chat")
async def start_conversation(
    request: Request,
    db: DbSession,
    principal: PagePrincipal,
    model: Annotated[str, Form()] = "",
    classification: Annotated[int, Form()] = 0,
    bot_id: Annotated[str, Form()] = "",
) -> Response:
    ctx = app_context(request)
    choices = await model_choices(gateway_of(ctx), principal)

    def start() -> int:
        settings = conversations.ConversationSettings(
            model=pick(choices, model).name if model else default_model(choices),
            classification=classification or ctx.settings.default_classification,
            bot_id=int(bot_id) if bot_id.isdigit() else None,
        )
        row = conversations.create(db, principal, settings)
        catalogue.record_use(db, principal.user_id, "/chat")
        return row.id

    try:
        conversation_id = await in_thread(db, start)
    except HiragaError as error:
        if error.status >= 500:
            raise
        context = await in_thread(db, lambda: chat_context(request, db, principal, choices))
        return render_failure(request, db, "portal/chat.html", error, lambda: context)
    return redirect(request, f"/chat/{conversation_id}")


@router.get("/chat/{conversation_id}")
async def show_conversation(
    request: Request, conversation_id: RowId, db: DbSession, principal: PagePrincipal, notice: str = ""
) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    context = await in_thread(
        db, lambda: conversation_context(request, db, principal, conversation_id, choices, notice=notice)
    )
    return render(request, "portal/conversation.html", context, headers={"Cache-Control": "no-store"})


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


async def reply_answer(
    request: Request, db: Session, principal: Principal, conversation_id: RowId, prepare: Prepare
) -> Response | ReplyStream:
    """SSE for the page's script; for a plain form post the answer is awaited, then the page
    again. Bad input shows the page with the error and keeps nothing."""
    ctx = app_context(request)
    gateway = gateway_of(ctx)
    choices = await model_choices(gateway, principal)
    try:
        plan = await in_thread(db, lambda: prepare(choices))
    except HiragaError as error:
        if error.status >= 500 or wants_stream(request):
            raise
        await in_thread(db, db.rollback)
        context = await in_thread(db, lambda: conversation_context(request, db, principal, conversation_id, choices))
        return render_failure(request, db, "portal/conversation.html", error, lambda: context)
    plan, tools = await in_thread(db, lambda: chat_tools.attach_for(ctx, db, principal, plan, choices))
    if wants_stream(request):
        return ReplyStream(gateway, ctx.database, principal, plan, tools)
    await chat.stream_reply(gateway, ctx.database, principal, plan, chat.Silent(), tools)
    return redirect(request, f"/chat/{conversation_id}#latest")


async def uploads_of(files: list[UploadFile] | None) -> list[Upload]:
    return [Upload(f.filename or "", await f.read()) for f in files or [] if f.filename]


@router.post("/chat/{conversation_id}/messages")
async def send_message(
    request: Request,
    conversation_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    content: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Any:
    uploads = await uploads_of(files)
    limit = app_context(request).settings.portal_max_output_tokens

    def prepare(choices: list[ModelChoice]) -> chat.ReplyPlan:
        catalogue.record_use(db, principal.user_id, "/chat")
        return chat.prepare_send(db, principal, conversation_id, content, uploads, choices, limit)

    return await reply_answer(request, db, principal, conversation_id, prepare)


@router.post("/chat/{conversation_id}/regenerate")
async def regenerate(request: Request, conversation_id: RowId, db: DbSession, principal: PagePrincipal) -> Any:
    limit = app_context(request).settings.portal_max_output_tokens
    return await reply_answer(
        request,
        db,
        principal,
        conversation_id,
        lambda choices: chat.prepare_regenerate(db, principal, conversation_id, choices, limit),
    )


@router.post("/chat/{conversation_id}/messages/{message_id}/edit")
async def edit_and_resend(
    request: Request,
    conversation_id: RowId,
    message_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    content: Annotated[str, Form()] = "",
) -> Any:
    limit = app_context(request).settings.portal_max_output_tokens
    return await reply_answer(
        request,
        db,
        principal,
        conversation_id,
        lambda choices: chat.prepare_edit(db, principal, conversation_id, message_id, content, choices, limit),
    )


async def conversation_form(
    request: Request,
    db: Session,
    principal: Principal,
    conversation_id: RowId,
    action: Callable[[], object],
    notice: str,
) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    try:
        await in_thread(db, action)
    except HiragaError as error:
        if error.status not in (400, 404, 409):
            raise
        await in_thread(db, db.rollback)
        context = await in_thread(db, lambda: conversation_context(request, db, principal, conversation_id, choices))
        return render_failure(request, db, "portal/conversation.html", error, lambda: context)
    return redirect(request, f"/chat/{conversation_id}?notice={notice}")


@router.post("/chat/{conversation_id}/rename")
async def rename(
    request: Request,
    conversation_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    title: Annotated[str, Form()] = "",
) -> Response:
    action = lambda: conversations.rename(db, principal, conversation_id, title)  # noqa: E731
    return await conversation_form(request, db, principal, conversation_id, action, "conversation_renamed")


@router.post("/chat/{conversation_id}/settings")
async def change_settings(
    request: Request,
    conversation_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    model: Annotated[str, Form()] = "",
    classification: Annotated[int, Form()] = 0,
    bot_id: Annotated[str, Form()] = "",
) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)

    def action() -> object:
        settings = conversations.ConversationSettings(
            model=pick(choices, model).name,
            classification=classification,
            bot_id=int(bot_id) if bot_id.isdigit() else None,
        )
        return conversations.change_settings(db, principal, conversation_id, settings)

    return await conversation_form(request, db, principal, conversation_id, action, "settings_saved")


@router.post("/chat/{conversation_id}/delete")
def delete(request: Request, conversation_id: RowId, db: DbSession, principal: PagePrincipal) -> Response:
    conversations.remove(db, principal, conversation_id)
    return redirect(request, "/chat?notice=conversation_deleted")


@router.post("/chat/{conversation_id}/messages/{message_id}/feedback")
async def give_feedback(
    request: Request,
    conversation_id: RowId,
    message_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    rating: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    corrected_answer: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
) -> Response:
    chosen = category if rating == "bad" else ""  # the form's 理由 counts only with 👎

    def action() -> object:
        return feedback.give(db, principal, conversation_id, message_id, rating, comment, corrected_answer, chosen)

    return await conversation_form(request, db, principal, conversation_id, action, "feedback_saved")


# -- bots -----------------------------------------------------------------------------------------
@router.get("/bots")
def bots_page(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "portal/bots.html", bots_context(db, scope.principal, notice=notice))


def bots_context(db: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    teams = [t for t in directory.list_teams(db, AccessScope(principal)) if t.id in principal.admin_team_ids]
    return {"bots": bots.list_usable(db, principal), "admin_teams": teams, **extra}


@router.post("/bots")
def create_bot(
    request: Request,
    db: DbSession,
    scope: PageScope,
    team_id: Annotated[RowId, Form()] = 0,
    name: Annotated[str, Form()] = "",
    system_prompt: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    try:
        bots.create(db, scope, team_id, name, system_prompt, description)
    except HiragaError as error:
        if error.status not in (400, 404):
            raise
        echo = {"form": {"name": name, "system_prompt": system_prompt, "description": description}}
        return render_failure(request, db, "portal/bots.html", error, lambda: bots_context(db, scope.principal, **echo))
    return redirect(request, "/bots?notice=bot_created")


@router.post("/bots/{bot_id}/delete")
def delete_bot(request: Request, bot_id: RowId, db: DbSession, scope: PageScope) -> Response:
    bots.remove(db, scope, bot_id)
    return redirect(request, "/bots?notice=bot_deleted")
