"""The optional model pass: a language model proposes further changes, which are returned as
findings with ``origin=model`` (never mixed up with the rule-based ones, and never deduplicated
against them). The interface is ``ModelPass``; ``GatewayModelPass`` asks a model through the
gateway (policy, quotas and audit apply as to any call)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from hiraga.kouyoubun.findings import Finding, Origin, RuleSource, Severity

MODEL_SOURCE = RuleSource("モデルによる提案（規則に基づかない。内容を確認してください）")
MAX_SUGGESTIONS = 20
PROMPT = (
    "あなたは日本の公用文の校閲者です。「公用文作成の考え方」（令和4年）に照らして、次の文章で直すとよい箇所を"
    "最大{limit}件、JSON 配列だけで答えてください。各要素は "
    '{{"quote": 文章中の該当箇所をそのまま, "suggestion": 直した表現, "reason": 理由}} とします。'
    "既に指摘済みの箇所は除きます: {known}\n\n文章:\n{text}"
)


class ModelPass(Protocol):
    async def suggest(self, text: str, findings: Sequence[Finding]) -> list[Finding]: ...


Chat = Callable[[dict[str, Any]], Any]  # an awaitable chat call: body -> OpenAI-style answer


class GatewayModelPass:
    """``chat`` sends one chat-completions body (e.g. ``lambda body: gateway.chat(call, body)``)."""

    def __init__(self, chat: Chat, model: str) -> None:
        self._chat = chat
        self._model = model

    async def suggest(self, text: str, findings: Sequence[Finding]) -> list[Finding]:
        known = "、".join(sorted({text[f.start : f.end] for f in findings})[:50]) or "なし"
        prompt = PROMPT.format(limit=MAX_SUGGESTIONS, known=known, text=text)
        body = {"model": self._model, "messages": [{"role": "user", "content": prompt}], "temperature": 0}
        answer = await self._chat(body)
        content = getattr(answer, "body", answer)["choices"][0]["message"]["content"] or ""
        return suggestions_from(content, text)


def suggestions_from(content: str, text: str) -> list[Finding]:
    """Findings for each suggestion whose quote occurs in ``text``; anything unreadable is skipped."""
    match = re.search(r"\[.*\]", content, re.DOTALL)
    try:
        items = json.loads(match.group()) if match else []
    except json.JSONDecodeError:
        return []
    found: list[Finding] = []
    for item in items[:MAX_SUGGESTIONS] if isinstance(items, list) else []:
        quote = item.get("quote") if isinstance(item, dict) else None
        if not isinstance(quote, str) or not quote or (at := text.find(quote)) < 0:
            continue
        found.append(
            Finding(
                at,
                at + len(quote),
                "model.suggestion",
                "モデルによる提案",
                "【モデルによる提案】" + str(item.get("reason") or ""),
                str(item.get("suggestion") or "") or None,
                MODEL_SOURCE,
                Severity.INFO,
                Origin.MODEL,
            )
        )
    return found
