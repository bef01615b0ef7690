"""What the task apps share: the run context the portal hands them (the user's model and
機密性 on every call), a result with checks and changes the portal can show, and prompt helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.protocol import CostInfo, TokenCount, UsageEntry
from hiraga.apps.provider_side import AppResult, RunContext
from hiraga.errors import InvalidInput, UpstreamFailed
from hiraga.gateway.service import cost_of, input_estimate
from hiraga.portal.attachments import as_context, extract_all
from hiraga.portal.context_window import cut_to_tokens, input_budget
from hiraga.portal.task_apps.streaming import TaskEvents, streamed_chat
from hiraga.portal.task_apps.tool_rounds import RunHeld, RunTools, chat_with_tools
from hiraga.providers.base import EndpointConfig
from hiraga.spine.call import Classification, ModelCall, Usage

DOCUMENT_TYPES = [".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv", ".html"]
DEFAULT_WINDOW = 4096


def select(title: str, options: list[tuple[str, str]], default: str, desc: str = "") -> dict[str, Any]:
    return {
        "type": "select",
        "title": title,
        "desc": desc,
        "options": [{"value": v, "label": label} for v, label in options],
        "default": default,
    }


def document_field(title: str = "ファイル（任意）") -> dict[str, Any]:
    return {
        "type": "file",
        "title": title,
        "desc": "PDF・Word・Excel・PowerPoint・テキスト。文字を取り出して使います。",
        "accept": DOCUMENT_TYPES,
        "max_size_mb": 10,
        "max_files": 3,
    }


@dataclass(frozen=True, slots=True)
class Change:
    """One proposed edit: what stood, what should stand, and why."""

    before: str
    after: str
    reason: str


@dataclass(frozen=True, slots=True)
class RuleNote:
    """A rule-based finding (公用文チェック) shown beside the model's proposals: reproducible,
    with the document the rule comes from."""

    excerpt: str
    suggestion: str | None
    rule: str
    reason: str
    source: str


@dataclass(slots=True)
class TaskResult(AppResult):
    """An AppResult the portal can show more of: checks in code (``checks``: Japanese warnings),
    the edits with reasons (``changes``), and notes on what was cut to fit the model."""

    checks: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    source_text: str = ""
    notices: list[str] = field(default_factory=list)
    rule_notes: list[RuleNote] = field(default_factory=list)
    text: str = ""  # the answer alone; ``outputs`` adds the checks for callers that get only outputs
    prompt: list[dict[str, str]] = field(default_factory=list)  # what the model was sent for the answer shown
    classification: int = 0  # the run's 機密性
    requested_model: str = ""  # the model the user picked (``usage`` names the endpoint that answered)

    @property
    def shown(self) -> str:
        """What the portal shows as the answer (the checks are shown once, beside it)."""
        return self.text or self.outputs


@dataclass(slots=True)
class PortalRunContext(RunContext):
    """A RunContext whose calls use the model and 機密性 the user picked in the portal."""

    model: str = "default"
    classification: Classification = Classification.LEVEL1
    context_window: int | None = None
    max_output_tokens: int = 1024
    notices: list[str] = field(default_factory=list)

    events: TaskEvents | None = None  # set: calls are streamed and their pieces handed on
    partial: list[str] = field(default_factory=list)  # every piece streamed so far (kept if stopped)
    tools: RunTools | None = None  # set: the run's model call is offered MCP tools (tool_rounds.py)

    async def chat(self, messages: list[dict[str, str]], *, model: str = "default", max_tokens: int = 512) -> str:
        if self.gateway is None:
            raise UpstreamFailed("モデルゲートウェイが利用できません。", code="gateway_unavailable")
        chosen = self.model if model == "default" else model
        tokens = min(max_tokens, self.max_output_tokens)
        body: dict[str, Any] = {"model": chosen, "messages": messages, "max_tokens": tokens, "temperature": 0.2}
        call = ModelCall(
            principal=self.principal,
            kind="chat",
            requested_model=chosen,
            classification=self.classification,
            team_id=self.team_id or None,
            estimated_input_tokens=input_estimate(body),
            max_output_tokens=tokens,
            source=f"app:{self.app_name}",
            stream=self.events is not None,
        )
        self.sent = [dict(m) for m in messages]  # the last call's messages: the prompt of the answer shown
        if self.tools is not None:
            try:
                text, answers = await chat_with_tools(self.gateway, call, body, self.tools, self.events, self.partial)
            except RunHeld as held:
                held.context = self
                for answered in held.answers:
                    self._count(answered.endpoint, answered.usage)
                raise
            for answered in answers:
                self._count(answered.endpoint, answered.usage)
            self.notices.extend(self.tools.reply.notices)
            self.tools.reply.notices.clear()
            return text
        if self.events is not None:
            text, endpoint, counted = await streamed_chat(self.gateway, call, body, self.events, self.partial)
        else:
            answer = await self.gateway.chat(call, body)
            usage = answer.body.get("usage") or {}
            counted = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
            choices = answer.body.get("choices") or [{}]
            text, endpoint = str((choices[0].get("message") or {}).get("content") or ""), answer.endpoint
        self._count(endpoint, counted)
        return text

    def _count(self, endpoint: EndpointConfig, counted: Usage) -> None:
        self.usage.append(
            UsageEntry(
                model_version=endpoint.name,
                request_count=1,
                tokens=TokenCount(input_tokens=counted.input_tokens, output_tokens=counted.output_tokens),
                estimated_cost_info=CostInfo(estimated_cost=cost_of(endpoint, counted), currency="JPY"),
            )
        )

    async def progress(self, step: str) -> None:
        if self.events is not None:
            await self.events.progress(step)


async def progress(context: RunContext, step: str) -> None:
    """Tell the page what the run is doing now (only a portal run streams its progress)."""
    if isinstance(context, PortalRunContext):
        await context.progress(step)


def window_of(context: RunContext) -> tuple[int | None, int]:
    """(context window, answer tokens) of the run's model; defaults when run over the protocol."""
    if isinstance(context, PortalRunContext):
        return context.context_window, context.max_output_tokens
    return DEFAULT_WINDOW, 512


def source_text(
    inputs: dict[str, Any],
    files: dict[str, list[Upload]],
    context: RunContext,
    *,
    reserve: int,
    key: str = "input_text",
) -> str:
    """The typed text plus the attached files' text, cut to what the model can read (with notes)."""
    window, answer_tokens = window_of(context)
    budget = input_budget(window, answer_tokens) - reserve
    typed = str(inputs.get(key) or "").strip()
    typed_cut = cut_to_tokens(typed, budget)
    notices = []
    if len(typed_cut) < len(typed):
        notices.append(f"入力が長いため、全 {len(typed):,} 文字のうち先頭 {len(typed_cut):,} 文字だけを使いました。")
    uploads = [u for group in files.values() for u in group]
    extracted = extract_all(uploads, max(0, budget - len(typed_cut))) if uploads else []
    notices += [n for f in extracted if (n := f.notice())]
    text = "\n\n".join(p for p in (typed_cut, as_context(extracted)) if p)
    if not text.strip():
        raise InvalidInput("文章を入力するか、ファイルを添付してください。", code="empty_input", detail={"field": key})
    if isinstance(context, PortalRunContext):
        context.notices.extend(notices)
    return text


def checked_result(text: str, checks: list[str], context: RunContext, **extra: Any) -> TaskResult:
    """The answer and its checks (each once): ``outputs`` lists them after the answer for protocol
    callers, the portal shows ``text`` and the checks beside it."""
    unique = list(dict.fromkeys(checks))
    outputs = text
    if unique:
        outputs += "\n\n**数字・日付・名前の確認:**\n\n" + "\n".join(f"- ⚠ {c}" for c in unique)
    return result(outputs, context, checks=unique, text=text, **extra)


def result(outputs: str, context: RunContext, **extra: Any) -> TaskResult:
    notices = context.notices if isinstance(context, PortalRunContext) else []
    return TaskResult(outputs=outputs, usage=list(context.usage), notices=list(notices), **extra)
