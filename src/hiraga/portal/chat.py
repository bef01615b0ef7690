"""One chat reply: prepare the prompt (send, regenerate, or edit and resend), stream the answer
through the gateway, and keep it. The reply is stored whatever happens: complete, incomplete
(stopped or failed mid-stream: the partial text is kept) or failed before any text came."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import orjson
from sqlalchemy.orm import Session

from hiraga.apps.forms import Upload
from hiraga.errors import HiragaError
from hiraga.gateway.protocol import estimate_tokens
from hiraga.gateway.service import ClientGone, Gateway
from hiraga.identity.principal import Principal
from hiraga.portal import conversations
from hiraga.portal.attachments import extract_all
from hiraga.portal.context_window import fit_turns, input_budget
from hiraga.portal.models import EMBEDDED_TAG, ModelChoice, pick
from hiraga.providers.base import EndpointConfig
from hiraga.providers.sse import data_of
from hiraga.spine.call import Classification, ModelCall
from hiraga.store.database import Database
from hiraga.store.tables import Conversation, Message

DEFAULT_SYSTEM_PROMPT = (
    "あなたは日本の行政機関の職員を支援するアシスタントです。日本語で、正確かつ簡潔に答えてください。"
    "分からないことは分からないと答えてください。"
)
STOPPED = "生成を停止しました。途中までの回答です。"
LAST_ROUND = "ツールの呼び出しは 1 回の回答につき {rounds} 回までです。ここまでの結果で回答します。"


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    conversation_id: int
    model: str
    classification: int
    messages: list[dict[str, str]]
    max_tokens: int
    notices: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)  # OpenAI-style tools the model may call


@dataclass(slots=True)
class Reply:
    conversation_id: int
    message_id: int | None = None
    text: str = ""
    status: str = "complete"
    model_name: str | None = None
    builtin: bool = False
    error: str | None = None
    notices: list[str] = field(default_factory=list)
    tool_calls: list[Any] = field(default_factory=list)  # the calls this reply asked for (hiraga.mcp)


class ReplyEvents(Protocol):
    """Where a streamed reply goes as it arrives (a page's SSE stream, or nowhere)."""

    async def model(self, name: str, builtin: bool) -> None: ...

    async def delta(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ToolRound:
    """One model answer that asked for tools: what it said, the ``tool_calls`` pieces, the messages
    it was sent and the endpoint that answered (its PII policy decides whether it saw placeholders)."""

    text: str
    deltas: list[dict[str, Any]]
    sent: list[dict[str, Any]]
    endpoint: EndpointConfig | None


class ToolRounds(Protocol):
    """Runs the tool calls a model asked for (``hiraga.mcp.chat_tools``): the messages to send back
    to the model to go on, or None to end the reply here (a call waits for approval)."""

    max_rounds: int

    async def run(self, reply: Reply, round_: ToolRound) -> list[dict[str, Any]] | None: ...


class Silent:
    async def model(self, name: str, builtin: bool) -> None:
        return None

    async def delta(self, text: str) -> None:
        return None


# -- preparing ------------------------------------------------------------------------------------
def _system_prompt(conversation: Conversation, db: Session, principal: Principal) -> str:
    bot = conversations.usable_bot(db, principal, conversation.bot_id) if conversation.bot_id else None
    return bot.system_prompt if bot is not None else DEFAULT_SYSTEM_PROMPT


def _plan(
    db: Session, principal: Principal, conversation: Conversation, choice: ModelChoice, max_output: int
) -> ReplyPlan:
    max_tokens = min(max_output, max(16, (choice.context_window or 4096) // 2))
    fitted = fit_turns(
        _system_prompt(conversation, db, principal),
        conversations.turns_of(conversation),
        input_budget(choice.context_window, max_tokens),
    )
    return ReplyPlan(
        conversation_id=conversation.id,
        model=conversation.model,
        classification=conversation.classification,
        messages=fitted.messages,
        max_tokens=max_tokens,
        notices=fitted.notices,
    )


def prepare_send(
    db: Session,
    principal: Principal,
    conversation_id: int,
    content: str,
    uploads: Sequence[Upload],
    choices: Sequence[ModelChoice],
    max_output: int,
) -> ReplyPlan:
    conversation = conversations.get(db, principal, conversation_id)
    choice = pick(choices, conversation.model)
    text = conversations.check_content(content)
    max_tokens = min(max_output, max(16, (choice.context_window or 4096) // 2))
    room = input_budget(choice.context_window, max_tokens) - estimate_tokens(
        _system_prompt(conversation, db, principal) + text
    )
    files = extract_all(uploads, max(0, room - 64)) if uploads else []
    conversations.add_user_message(db, conversation, text, files)
    plan = _plan(db, principal, conversation, choice, max_output)
    plan.notices[:0] = [n for f in files if (n := f.notice())]
    return plan


def prepare_continue(
    db: Session, principal: Principal, conversation_id: int, choices: Sequence[ModelChoice], max_output: int
) -> ReplyPlan:
    """The conversation as it stands, to let the model go on (after a tool call was decided)."""
    conversation = conversations.get(db, principal, conversation_id)
    return _plan(db, principal, conversation, pick(choices, conversation.model), max_output)


def prepare_regenerate(
    db: Session, principal: Principal, conversation_id: int, choices: Sequence[ModelChoice], max_output: int
) -> ReplyPlan:
    conversation = conversations.get(db, principal, conversation_id)
    choice = pick(choices, conversation.model)
    conversations.drop_last_reply(db, conversation)
    return _plan(db, principal, conversation, choice, max_output)


def prepare_edit(
    db: Session,
    principal: Principal,
    conversation_id: int,
    message_id: int,
    content: str,
    choices: Sequence[ModelChoice],
    max_output: int,
) -> ReplyPlan:
    conversation = conversations.get(db, principal, conversation_id)
    choice = pick(choices, conversation.model)
    conversations.edit_user_message(db, conversation, message_id, content)
    db.refresh(conversation)
    return _plan(db, principal, conversation, choice, max_output)


# -- streaming ------------------------------------------------------------------------------------
class _Collector:
    """The gateway's StreamSink: OpenAI stream events in, text pieces out to ``events``."""

    def __init__(self, reply: Reply, events: ReplyEvents) -> None:
        self.reply, self.events = reply, events
        self.pieces: list[str] = []
        self.tool_deltas: list[dict[str, Any]] = []
        self.endpoint: EndpointConfig | None = None

    async def start(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint
        self.reply.model_name = endpoint.name
        self.reply.builtin = endpoint.provider == "embedded" or EMBEDDED_TAG in endpoint.tags
        await self.events.model(endpoint.name, self.reply.builtin)

    async def send(self, frame: bytes) -> None:
        pieces, error = frame_content(frame)
        if error is not None:
            self.reply.error = error
        for piece in pieces:
            self.pieces.append(piece)
            await self.events.delta(piece)
        self.tool_deltas.extend(frame_tool_deltas(frame))


def frame_tool_deltas(frame: bytes) -> list[dict[str, Any]]:
    """The ``delta.tool_calls`` entries of one OpenAI stream event (pieces of the calls a model asks for)."""
    payload = data_of(frame)
    if payload is None or b"tool_calls" not in payload:
        return []
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return []
    deltas: list[dict[str, Any]] = []
    for choice in chunk.get("choices") or [] if isinstance(chunk, dict) else []:
        calls = (choice.get("delta") or {}).get("tool_calls") if isinstance(choice, dict) else None
        deltas.extend(call for call in calls or [] if isinstance(call, dict))
    return deltas


def frame_content(frame: bytes) -> tuple[list[str], str | None]:
    """The text pieces of one OpenAI stream event, and the error it reports (if any)."""
    payload = data_of(frame)
    if payload is None or payload == b"[DONE]":
        return [], None
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return [], None
    if not isinstance(chunk, dict):
        return [], None
    if "error" in chunk:
        error = chunk["error"]
        return [], str(error.get("message") if isinstance(error, dict) else error)
    pieces = []
    for choice in chunk.get("choices") or []:
        piece = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
        if isinstance(piece, str) and piece:
            pieces.append(piece)
    return pieces, None


def model_call(principal: Principal, plan: ReplyPlan, source: str, *, stream: bool) -> ModelCall:
    return ModelCall(
        principal=principal,
        kind="chat",
        requested_model=plan.model,
        classification=Classification(plan.classification),
        stream=stream,
        source=source,
        estimated_input_tokens=sum(estimate_tokens(m["content"]) for m in plan.messages),
        max_output_tokens=plan.max_tokens,
    )


async def stream_reply(
    gateway: Gateway,
    database: Database,
    principal: Principal,
    plan: ReplyPlan,
    events: ReplyEvents,
    tools: ToolRounds | None = None,
) -> Reply:
    """Ask the model and keep the answer; cancellation (the user pressed stop or left) keeps the
    partial text, marked incomplete. With ``tools`` (and ``plan.tools``), calls the model asks
    for go to ``tools``, whose messages go back to the model, up to ``tools.max_rounds`` times;
    after the last round the results still go back once more, without tools, for the answer."""
    reply = Reply(conversation_id=plan.conversation_id, notices=list(plan.notices))
    collector = _Collector(reply, events)
    body: dict[str, Any] = {
        "model": plan.model,
        "messages": plan.messages,
        "max_tokens": plan.max_tokens,
        "temperature": 0.3,
    }
    rounds = tools.max_rounds if tools is not None and plan.tools else 0
    if rounds:
        body["tools"] = plan.tools
    try:
        await _answer_with_tools(gateway, principal, plan, body, collector, tools if rounds else None, rounds)
    except HiragaError as exc:
        reply.error = exc.message
    except ClientGone:
        reply.error = STOPPED
    except BaseException:
        reply.error = STOPPED
        raise
    finally:
        reply.text = "".join(collector.pieces)
        if reply.error:
            reply.status = "incomplete" if reply.text else "failed"
        with anyio.CancelScope(shield=True):
            reply.message_id = await anyio.to_thread.run_sync(_keeper(database, reply))
    return reply


async def _answer_with_tools(
    gateway: Gateway,
    principal: Principal,
    plan: ReplyPlan,
    body: dict[str, Any],
    collector: _Collector,
    tools: ToolRounds | None,
    rounds: int,
) -> None:
    """Up to ``rounds`` answers whose tool calls run, then one answer without tools (if needed)."""
    for done in range(rounds + 1):
        if done == rounds and tools is not None:
            body.pop("tools", None)  # the limit: the model answers from the results it has
            collector.reply.notices.append(LAST_ROUND.format(rounds=rounds))
        said = len(collector.pieces)
        await gateway.stream_chat(model_call(principal, plan, "portal", stream=True), body, collector)
        deltas, collector.tool_deltas = collector.tool_deltas, []
        if tools is None or done == rounds or not deltas:
            return
        text = "".join(collector.pieces[said:])
        follow = await tools.run(collector.reply, ToolRound(text, deltas, body["messages"], collector.endpoint))
        if follow is None:
            return
        body["messages"] = [*body["messages"], *follow]


def _keeper(database: Database, reply: Reply) -> Callable[[], int | None]:
    def keep() -> int | None:
        with database.session() as db:
            position = conversations.claim_next_position(db, reply.conversation_id)
            if position is None:  # deleted while the answer was coming
                return None
            message = Message(
                conversation_id=reply.conversation_id,
                position=position,
                role="assistant",
                content=reply.text.replace("\x00", "\ufffd"),  # a model's NUL cannot be stored on PostgreSQL
                status=reply.status,
                model_name=reply.model_name,
                builtin_model=reply.builtin,
                error_message=(reply.error or "")[:1000] or None,
                notices=json.dumps(reply.notices, ensure_ascii=False),
            )
            db.add(message)
            db.flush()
            return message.id

    return keep
