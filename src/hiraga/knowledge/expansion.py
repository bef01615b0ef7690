"""Query expansion by the model (as Gennai's query-expansion RAG does): before searching, the model
rewrites the user's question into a few search phrasings in the documents' own vocabulary
(「役所が申請を断る」→「行政庁が申請を拒否する処分」), and lexical search uses them alongside the
question (``HybridSearcher.search(..., expansions=...)``).

The rewrite is a model call like any other: through the gateway, as the caller, at the knowledge
base's 機密性 (the question may be confidential), usage and audit recorded. When the model cannot
be reached the search goes on with the question alone and says so; expansion never blocks an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hiraga.apps.protocol import UsageEntry
from hiraga.apps.provider_side import chat_through_gateway
from hiraga.errors import InvalidInput, ServiceUnavailable, UpstreamFailed
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.knowledge.search_calls import SearchCallTarget, search_call

MAX_EXPANSIONS = 3
MAX_EXPANSION_CHARS = 200
EXPANSION_PROMPT = (
    "あなたは行政文書の検索を手伝います。利用者の質問を、法令や規程・マニュアルに書かれていそうな言葉に"
    "言い換えた検索語句を、最大 3 行で出力してください。1 行に 1 つ、説明や番号は付けないでください。"
)
FAILED_NOTICE = "質問の言い換え（クエリ拡張）ができなかったため、元の質問だけで検索しました。"
_LIST_MARK = re.compile(r"^\s*(?:[-・*•]|\d{1,2}[.)．、])\s*")


@dataclass(slots=True)
class Expansion:
    phrasings: list[str] = field(default_factory=list)
    usage: list[UsageEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def phrasings_of(text: str, question: str) -> list[str]:
    """The model's lines as search phrasings: list marks stripped, blanks, repeats and the question
    itself dropped, each cut to ``MAX_EXPANSION_CHARS``, at most ``MAX_EXPANSIONS``."""
    found: list[str] = []
    for line in text.splitlines():
        phrase = _LIST_MARK.sub("", line).strip().strip("「」\"'")[:MAX_EXPANSION_CHARS]
        if phrase and phrase != question.strip() and phrase not in found:
            found.append(phrase)
    return found[:MAX_EXPANSIONS]


async def expand_question(gateway: Gateway, principal: Principal, question: str, target: SearchCallTarget) -> Expansion:
    """Up to three search phrasings of ``question`` written by the model. Refusals by policy
    (a model not cleared for the level, a spent budget) propagate; a failing model does not."""
    if not question.strip():
        raise InvalidInput("質問を入力してください。", code="empty_question", detail={"field": "question"})
    body: dict[str, Any] = {
        "model": target.model,
        "messages": [{"role": "system", "content": EXPANSION_PROMPT}, {"role": "user", "content": question}],
        "max_tokens": 120,
        "temperature": 0,
    }
    try:
        text, usage = await chat_through_gateway(
            gateway, search_call(principal, target, body, kind="chat", purpose="rag-expand"), body
        )
    except (UpstreamFailed, ServiceUnavailable):
        return Expansion(notices=[FAILED_NOTICE])
    return Expansion(phrasings_of(text, question), [usage])
