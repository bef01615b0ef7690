"""Answers from a knowledge base: retrieve (→ rerank by a served reranker, when the knowledge base
names one) → prompt with numbered passages → answer through the gateway → citations checked in
code (``hiraga.knowledge.citations``).

When nothing relevant is retrieved the model is not asked at all and the answer says so
(「該当する資料が見つかりませんでした」): a small model given unrelated passages guesses. The
model call carries the caller's principal and the knowledge base's 機密性: its classification is
the highest of the level the user chose and the knowledge base's, so the gateway only routes it to
a model cleared for that level.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from sqlalchemy.orm import Session

from hiraga.apps.protocol import UsageEntry
from hiraga.apps.provider_side import chat_through_gateway
from hiraga.errors import InvalidInput
from hiraga.gateway.service import Gateway, input_estimate
from hiraga.identity.principal import Principal
from hiraga.knowledge import service
from hiraga.knowledge.attribution import attribute, shown_text
from hiraga.knowledge.citations import NOT_FOUND_MESSAGE, CheckedAnswer, Passage, check_citations, law_footer
from hiraga.knowledge.expansion import Expansion
from hiraga.knowledge.reranking import Reranking, candidate_count, rerank
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.knowledge.search_calls import SearchCallTarget
from hiraga.knowledge.tokenise import content_words, words
from hiraga.providers.base import EndpointConfig
from hiraga.providers.sse import data_of
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import ModelCall
from hiraga.spine.classification import effective_classification
from hiraga.store.tables import KnowledgeBase

SYSTEM_PROMPT = (
    "あなたは行政職員を支援するアシスタントです。与えられた資料だけに基づいて、日本語で簡潔に答えてください。"
    "資料の文言を使って文章で答え、根拠とした資料の番号をその文の末尾に [1] のように付けてください"
    "（番号だけの回答はしないでください）。"
    "法令の資料を使うときは、法令名と条番号（例: 行政手続法第五条）を書いてください。"
    "資料に答えがないときは「資料からは分かりません」とだけ答えてください。"
)
MAX_QUESTION_CHARS = 2000
UNGROUNDED_NOTICE = "回答に有効な引用が含まれていません。下の資料で内容を確認してください。"
INVALID_NOTICE = "資料にない番号の引用 {numbers} を取り除きました。"


@dataclass(frozen=True, slots=True)
class AskOptions:
    top_k: int = 5  # passages retrieved
    passage_chars: int = 700  # each passage is cut to this many characters in the prompt
    prompt_chars: int = 2800  # all passages together
    min_coverage: float = 0.34  # share of the question's content words found in the passages
    model: str = "default"
    max_tokens: int = 512
    classification: int | None = None  # the level the user chose (None: the knowledge base's)


@dataclass(slots=True)
class RagAnswer:
    question: str
    text: str  # Markdown: checked markers, and the cited law articles with their e-Gov links
    passages: list[Passage]  # what the model was shown, numbered
    cited: list[Passage] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    found: bool = True  # False: nothing relevant was retrieved and no model was asked
    model_name: str | None = None
    classification: int = 1
    usage: list[UsageEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    model_text: str | None = None  # what the model wrote, before any check
    expansions: list[str] = field(default_factory=list)  # the phrasings searched with (query expansion)
    reranked_by: str | None = None  # the served reranker whose order the passages are in
    prompt: list[dict[str, str]] = field(default_factory=list)  # the messages the model was sent

    @property
    def grounded(self) -> bool:
        return bool(self.cited)


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What retrieval found for one question, before any model is asked."""

    knowledge_base_id: int
    knowledge_base_level: int
    team_id: int | None
    question: str
    passages: list[Passage]
    relevant: bool
    expansion: Expansion = field(default_factory=Expansion)  # the model's phrasings, when asked for
    candidates: list[Passage] = field(default_factory=list)  # the pool a served reranker orders
    reranker: str | None = None  # the knowledge base's served reranker, if any
    reranking: Reranking = field(default_factory=Reranking)


def check_question(question: str) -> str:
    text = question.strip()
    if not text:
        raise InvalidInput("質問を入力してください。", code="empty_question", detail={"field": "question"})
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInput(
            f"質問が長すぎます（{MAX_QUESTION_CHARS} 文字まで）。",
            code="question_too_long",
            detail={"field": "question"},
        )
    return text


def coverage(question: str, passages: Sequence[Passage]) -> float:
    """Share of the question's content words (Sudachi normalised forms) that occur in the passages."""
    asked = set(content_words(question))
    if not asked:
        return 0.0
    seen: set[str] = set()
    for passage in passages:
        seen.update(words(passage.text))
        seen.update(words(" ".join(passage.heading_path)))
    return len(asked & seen) / len(asked)


def retrieve(
    db: Session,
    scope: AccessScope,
    kb: KnowledgeBase,
    runtime: KnowledgeRuntime,
    question: str,
    options: AskOptions,
    expansion: Expansion | None = None,
) -> Retrieval:
    """Search the (readable) knowledge base; relevant only when the hits cover the question (or,
    with query expansion, one of the model's phrasings of it). With a served reranker the pool
    it will order is kept as ``candidates`` (see ``reranked``)."""
    text = check_question(question)
    expansion = expansion or Expansion()
    pool = candidate_count(kb.reranker_model, options.top_k)
    hits = service.search(db, scope, kb, runtime, text, top_k=pool, expansions=expansion.phrasings)
    candidates = [Passage.of(n, hit) for n, hit in enumerate(hits, start=1)]
    passages = candidates[: options.top_k]
    return Retrieval(
        kb.id,
        kb.classification,
        charged_team(kb, scope),
        text,
        passages,
        is_relevant(text, passages, expansion, options),
        expansion,
        candidates,
        kb.reranker_model,
    )


def is_relevant(question: str, passages: Sequence[Passage], expansion: Expansion, options: AskOptions) -> bool:
    covered = max(coverage(q, passages) for q in [question, *expansion.phrasings])
    return bool(passages) and covered >= options.min_coverage


async def reranked(gateway: Gateway, principal: Principal, retrieval: Retrieval, options: AskOptions) -> Retrieval:
    """The retrieval with its passages chosen and ordered by the knowledge base's served reranker
    (renumbered from 1); unchanged when it names none, and in the built-in order (with a notice)
    when the reranker cannot be used."""
    if retrieval.reranker is None:
        return retrieval
    target = SearchCallTarget(
        retrieval.knowledge_base_id,
        retrieval.knowledge_base_level,
        retrieval.team_id,
        retrieval.reranker,
        options.classification,
    )
    ordered, reranking = await rerank(gateway, principal, retrieval.question, retrieval.candidates, shown_text, target)
    passages = [dataclasses.replace(p, number=n) for n, p in enumerate(ordered[: options.top_k], start=1)]
    relevant = is_relevant(retrieval.question, passages, retrieval.expansion, options)
    return dataclasses.replace(retrieval, passages=passages, relevant=relevant, reranking=reranking)


def charged_team(kb: KnowledgeBase, scope: AccessScope) -> int | None:
    """The team a model call over ``kb`` is charged to: the knowledge base's, when the caller is in it."""
    return kb.team_id if kb.team_id in scope.principal.team_ids else None


def expansion_target(kb: KnowledgeBase, scope: AccessScope, options: AskOptions) -> SearchCallTarget:
    return SearchCallTarget(kb.id, kb.classification, charged_team(kb, scope), options.model, options.classification)


def passage_block(passage: Passage, limit: int) -> str:
    text = passage.text if len(passage.text) <= limit else passage.text[:limit] + "…"
    return f"[{passage.number}] {passage.label}\n{text}"


def build_messages(question: str, passages: Sequence[Passage], options: AskOptions) -> list[dict[str, str]]:
    """The system prompt, and the question after as many numbered passages as fit the budget."""
    blocks: list[str] = []
    used = 0
    for passage in passages:
        block = passage_block(passage, options.passage_chars)
        if blocks and used + len(block) > options.prompt_chars:
            break
        blocks.append(block)
        used += len(block)
    user = "資料:\n" + "\n\n".join(blocks) + f"\n\n質問: {question}\n回答（文末に資料番号を付ける）:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def shown_passages(passages: Sequence[Passage], messages: list[dict[str, str]]) -> list[Passage]:
    prompt = messages[-1]["content"]
    return [p for p in passages if f"[{p.number}] " in prompt]


def model_call(principal: Principal, retrieval: Retrieval, options: AskOptions, body: dict[str, Any]) -> ModelCall:
    level = effective_classification(options.classification, retrieval.knowledge_base_level)
    call = ModelCall(
        principal=principal,
        kind="chat",
        requested_model=options.model,
        classification=level,
        team_id=retrieval.team_id,
        stream=bool(body.get("stream")),
        estimated_input_tokens=input_estimate(body),
        max_output_tokens=options.max_tokens,
        source=f"rag:{retrieval.knowledge_base_id}",
    )
    call.draw_on(f"kb:{retrieval.knowledge_base_id}", retrieval.knowledge_base_level)
    return call


def not_found(retrieval: Retrieval, options: AskOptions) -> RagAnswer:
    level = int(effective_classification(options.classification, retrieval.knowledge_base_level))
    answer = RagAnswer(retrieval.question, NOT_FOUND_MESSAGE, retrieval.passages, found=False, classification=level)
    return with_retrieval_calls(answer, retrieval)


def with_retrieval_calls(answer: RagAnswer, retrieval: Retrieval) -> RagAnswer:
    """What the model calls of retrieval (query expansion, reranking) add to the answer: the
    phrasings, the reranker, their usage and notices."""
    expansion, reranking = retrieval.expansion, retrieval.reranking
    answer.expansions = list(expansion.phrasings)
    answer.reranked_by = reranking.model
    answer.usage = [*expansion.usage, *reranking.usage, *answer.usage]
    answer.notices = [*expansion.notices, *reranking.notices, *answer.notices]
    return answer


def finish(retrieval: Retrieval, shown: list[Passage], raw: str, call: ModelCall) -> RagAnswer:
    """The model's text with its markers checked, each claim tied to a passage that contains it,
    and notices for what was removed, moved, quoted or left unsupported."""
    checked: CheckedAnswer = check_citations(raw, shown)
    attributed = attribute(checked.text, retrieval.question, shown)
    final = check_citations(attributed.text, shown)
    footer = law_footer(final)
    answer = RagAnswer(
        retrieval.question,
        final.text + (f"\n\n{footer}" if footer else ""),
        shown,
        final.cited,
        checked.invalid,
        classification=int(call.classification),
        model_text=raw,
    )
    if checked.invalid:
        answer.notices.append(INVALID_NOTICE.format(numbers="・".join(f"[{n}]" for n in checked.invalid)))
    answer.notices.extend(attributed.notices)
    if not final.cited:
        answer.notices.append(UNGROUNDED_NOTICE)
    return with_retrieval_calls(answer, retrieval)


def _body(retrieval: Retrieval, options: AskOptions, *, stream: bool) -> dict[str, Any]:
    messages = build_messages(retrieval.question, retrieval.passages, options)
    body: dict[str, Any] = {
        "model": options.model,
        "messages": messages,
        "max_tokens": options.max_tokens,
        "temperature": 0,
    }
    return body | {"stream": True} if stream else body


async def answer(gateway: Gateway, principal: Principal, retrieval: Retrieval, options: AskOptions) -> RagAnswer:
    """One answer through the gateway (not streamed)."""
    if not retrieval.relevant:
        return not_found(retrieval, options)
    body = _body(retrieval, options, stream=False)
    call = model_call(principal, retrieval, options, body)
    text, usage = await chat_through_gateway(gateway, call, body)
    result = finish(retrieval, shown_passages(retrieval.passages, body["messages"]), text, call)
    result.model_name = usage.model_version
    result.usage.append(usage)
    result.prompt = list(body["messages"])
    return result


class AnswerEvents(Protocol):
    """Where a streamed answer goes while it is written (e.g. an SSE response)."""

    async def model(self, name: str) -> None: ...

    async def delta(self, text: str) -> None: ...


class _Relay:
    """The gateway's StreamSink: OpenAI stream frames in, text pieces out."""

    def __init__(self, events: AnswerEvents) -> None:
        self.events = events
        self.pieces: list[str] = []
        self.endpoint: str | None = None

    async def start(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint.name
        await self.events.model(endpoint.name)

    async def send(self, frame: bytes) -> None:
        payload = data_of(frame)
        if not payload or payload == b"[DONE]":
            return
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(chunk, dict):
            return
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
            if isinstance(piece, str) and piece:
                self.pieces.append(piece)
                await self.events.delta(piece)


async def stream_answer(
    gateway: Gateway, principal: Principal, retrieval: Retrieval, options: AskOptions, events: AnswerEvents
) -> RagAnswer:
    """The answer streamed into ``events`` as the model writes it; the returned (checked) answer
    replaces the streamed text, since markers that name no passage are removed only at the end."""
    if not retrieval.relevant:
        return not_found(retrieval, options)
    body = _body(retrieval, options, stream=True)
    call = model_call(principal, retrieval, options, body)
    relay = _Relay(events)
    await gateway.stream_chat(call, body, relay)
    result = finish(retrieval, shown_passages(retrieval.passages, body["messages"]), "".join(relay.pieces), call)
    result.model_name = relay.endpoint
    result.prompt = list(body["messages"])
    return result
