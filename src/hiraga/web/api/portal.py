"""/api/v1 of the portal: conversations (streamed replies as SSE), task apps, bots and builder
apps. Thin: each route hands over to a ``hiraga.portal`` service. ``ReplyStream`` is the SSE answer
the chat page uses too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from hiraga.bounds import RowId
from hiraga.gateway.service import ClientGone, Gateway
from hiraga.identity.principal import Principal
from hiraga.mcp import chat_tools
from hiraga.portal import chat, conversations, feedback
from hiraga.portal import protocol as wire
from hiraga.portal.markdown import render_markdown
from hiraga.portal.models import BUILTIN_NOTE, ModelChoice, default_model, model_choices, pick
from hiraga.settings import Settings
from hiraga.store.database import Database
from hiraga.store.tables import Conversation, Message
from hiraga.web.api import schemas
from hiraga.web.context import AppContext
from hiraga.web.deps import CurrentPrincipal, DbSession, app_context
from hiraga.web.v1.answers import SSE_HEADERS, until_disconnect

router = APIRouter(prefix="/api/v1", tags=["ポータル"], responses=schemas.ERROR_RESPONSES)
T = TypeVar("T")


# -- shared with the pages ------------------------------------------------------------------------
def gateway_of(ctx: AppContext) -> Gateway:
    gateway: Gateway = ctx.extras["gateway"]
    return gateway


async def in_thread(db: Session, work: Callable[[], T]) -> T:
    """Run a service call on the request's session in a worker thread and commit it, so that the
    reply (kept by its own session) sees it."""

    def run() -> T:
        value = work()
        db.commit()
        return value

    return await anyio.to_thread.run_sync(run)


def classification_or_default(level: int | None, settings: Settings) -> int:
    return settings.default_classification if level is None else level


def sse(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def reply_view(reply: chat.Reply) -> dict[str, Any]:
    return {
        "message_id": reply.message_id,
        "status": reply.status,
        "content": reply.text,
        "html": render_markdown(reply.text),
        "model_name": reply.model_name,
        "builtin_model": reply.builtin,
        "builtin_note": BUILTIN_NOTE if reply.builtin else None,
        "error_message": reply.error,
        "notices": reply.notices,
        "tool_calls": [chat_tools.call_view(row) for row in reply.tool_calls],
    }


class _SseEvents:
    def __init__(self, send: Send) -> None:
        self._send = send

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        try:
            await self._send({"type": "http.response.body", "body": sse(event, data), "more_body": True})
        except OSError as exc:
            raise ClientGone() from exc

    async def model(self, name: str, builtin: bool) -> None:
        await self.emit("model", {"name": name, "builtin": builtin, "note": BUILTIN_NOTE if builtin else None})

    async def delta(self, text: str) -> None:
        await self.emit("delta", {"text": text})


class ReplyStream(Response):
    """The reply as SSE: ``model`` (who answers), ``delta`` (text pieces), ``done`` (the kept
    message, its sanitised HTML and status). The client leaving stops the model; what came is kept."""

    def __init__(
        self,
        gateway: Gateway,
        database: Database,
        principal: Principal,
        plan: chat.ReplyPlan,
        tools: chat.ToolRounds | None = None,
    ) -> None:
        super().__init__(media_type="text/event-stream")
        self.gateway, self.database, self.principal, self.plan = gateway, database, principal, plan
        self.tools = tools

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        events = _SseEvents(send)
        headers = [*SSE_HEADERS, (b"x-content-type-options", b"nosniff")]

        async def work() -> None:
            try:
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                if self.plan.notices:
                    await events.emit("notice", {"notices": self.plan.notices})
                reply = await chat.stream_reply(
                    self.gateway, self.database, self.principal, self.plan, events, self.tools
                )
                await events.emit("done", reply_view(reply))
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except (ClientGone, OSError):
                return

        await until_disconnect(receive, work)


async def answer(
    request: Request, db: Session, principal: Principal, stream: bool, prepare: Callable[[list[ModelChoice]], Any]
) -> Any:
    """Prepare the turn (refusals change nothing), then stream the reply or answer it as JSON."""
    ctx = app_context(request)
    gateway = gateway_of(ctx)
    choices = await model_choices(gateway, principal)
    plan: chat.ReplyPlan = await in_thread(db, lambda: prepare(choices))
    plan, tools = await in_thread(db, lambda: chat_tools.attach_for(ctx, db, principal, plan, choices))
    if stream:
        return ReplyStream(gateway, ctx.database, principal, plan, tools)
    reply = await chat.stream_reply(gateway, ctx.database, principal, plan, chat.Silent(), tools)
    return Response(orjson.dumps(reply_view(reply)), media_type="application/json")


def max_output(request: Request) -> int:
    return app_context(request).settings.portal_max_output_tokens


# -- conversations --------------------------------------------------------------------------------
def conversation_view(row: Conversation) -> wire.Conversation:
    return wire.Conversation.model_validate(row)


def message_view(row: Message) -> wire.MessageView:
    return wire.MessageView(
        id=row.id,
        position=row.position,
        role=row.role,
        content=row.content,
        status=row.status,
        model_name=row.model_name,
        builtin_model=row.builtin_model,
        error_message=row.error_message,
        notices=conversations.notices_of(row),
        attachments=[a.filename for a in row.attachments],
        created_at=row.created_at,
    )


@router.get("/conversations", summary="自分の会話の一覧（q で題名と本文を検索）")
def list_conversations(
    db: DbSession, principal: CurrentPrincipal, q: Annotated[str, Query(max_length=200)] = ""
) -> list[wire.Conversation]:
    return [conversation_view(c) for c in conversations.list_for(db, principal, q)]


@router.post("/conversations", status_code=201, summary="会話を始める")
async def create_conversation(
    request: Request, body: wire.ConversationCreate, db: DbSession, principal: CurrentPrincipal
) -> wire.Conversation:
    ctx = app_context(request)
    choices = await model_choices(gateway_of(ctx), principal)
    model = pick(choices, body.model).name if body.model else default_model(choices)
    settings = conversations.ConversationSettings(
        model=model,
        classification=classification_or_default(body.classification, ctx.settings),
        bot_id=body.bot_id,
    )
    row = await in_thread(db, lambda: conversations.create(db, principal, settings, body.title))
    return conversation_view(row)


@router.get("/conversations/{conversation_id}", summary="会話とそのメッセージ")
def get_conversation(conversation_id: RowId, db: DbSession, principal: CurrentPrincipal) -> wire.ConversationDetail:
    row = conversations.get(db, principal, conversation_id)
    return wire.ConversationDetail(
        **conversation_view(row).model_dump(), messages=[message_view(m) for m in row.messages]
    )


@router.patch("/conversations/{conversation_id}", summary="会話の名前・モデル・機密性・ボットの変更")
async def update_conversation(
    request: Request, conversation_id: RowId, body: wire.ConversationUpdate, db: DbSession, principal: CurrentPrincipal
) -> wire.Conversation:
    choices = await model_choices(gateway_of(app_context(request)), principal)

    def change() -> Conversation:
        row = conversations.get(db, principal, conversation_id)
        if body.title is not None:
            conversations.rename(db, principal, conversation_id, body.title)
        fields = body.model_fields_set & {"model", "classification", "bot_id"}
        if fields:
            settings = conversations.ConversationSettings(
                model=pick(choices, body.model).name if body.model else row.model,
                classification=body.classification or row.classification,
                bot_id=body.bot_id if "bot_id" in fields else row.bot_id,
            )
            conversations.change_settings(db, principal, conversation_id, settings)
        return row

    return conversation_view(await in_thread(db, change))


@router.delete("/conversations/{conversation_id}", status_code=204, response_class=Response, summary="会話の削除")
def delete_conversation(conversation_id: RowId, db: DbSession, principal: CurrentPrincipal) -> None:
    conversations.remove(db, principal, conversation_id)


@router.post(
    "/conversations/{conversation_id}/messages",
    summary="質問を送って回答を得る（stream: true なら SSE）",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def send_message(
    request: Request, conversation_id: RowId, body: wire.MessageCreate, db: DbSession, principal: CurrentPrincipal
) -> Any:
    limit = max_output(request)
    return await answer(
        request,
        db,
        principal,
        body.stream,
        lambda choices: chat.prepare_send(db, principal, conversation_id, body.content, [], choices, limit),
    )


@router.post("/conversations/{conversation_id}/regenerate", summary="最後の回答を作り直す")
async def regenerate(
    request: Request, conversation_id: RowId, body: wire.Regenerate, db: DbSession, principal: CurrentPrincipal
) -> Any:
    limit = max_output(request)
    return await answer(
        request,
        db,
        principal,
        body.stream,
        lambda choices: chat.prepare_regenerate(db, principal, conversation_id, choices, limit),
    )


@router.post("/conversations/{conversation_id}/messages/{message_id}/edit", summary="質問を直して送り直す")
async def edit_and_resend(
    request: Request,
    conversation_id: RowId,
    message_id: RowId,
    body: wire.MessageEdit,
    db: DbSession,
    principal: CurrentPrincipal,
) -> Any:
    limit = max_output(request)
    return await answer(
        request,
        db,
        principal,
        body.stream,
        lambda choices: chat.prepare_edit(db, principal, conversation_id, message_id, body.content, choices, limit),
    )


@router.put("/conversations/{conversation_id}/messages/{message_id}/feedback", summary="回答の評価（👍/👎）")
def give_feedback(
    conversation_id: RowId, message_id: RowId, body: wire.FeedbackCreate, db: DbSession, principal: CurrentPrincipal
) -> wire.FeedbackView:
    row = feedback.give(
        db, principal, conversation_id, message_id, body.rating, body.comment, body.corrected_answer, body.category
    )
    return wire.FeedbackView.model_validate(row)
