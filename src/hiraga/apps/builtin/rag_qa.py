"""RAG チャット as an app of the ``hiraga.apps`` extension point: a question over one knowledge base
the caller may read, answered with citations checked in code, followed by the 根拠 (the cited
passages, with law and article and a link). Callable over the Gennai protocol and from the portal's
task-app page like any other app; the model call carries the knowledge base's 機密性."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.errors import UpstreamFailed
from hiraga.knowledge import answering, service, wiring
from hiraga.knowledge.citations import NOT_FOUND_MESSAGE, Passage
from hiraga.knowledge.expansion import Expansion, expand_question
from hiraga.knowledge.search_calls import SearchCallTarget
from hiraga.spine.authorize import AccessScope

EXCERPT_CHARS = 160
FORM: dict[str, Any] = {
    "knowledge_base": {
        "type": "text",
        "title": "ナレッジベース",
        "desc": "検索するナレッジベースの名前（または番号）",
        "required": True,
        "max_length": 200,
        "suggest": "knowledge_bases",
    },
    "question": {
        "type": "textarea",
        "title": "質問",
        "desc": "資料に基づいて回答し、根拠の箇所を [1] のように示します。",
        "required": True,
        "max_length": answering.MAX_QUESTION_CHARS,
    },
    "expand_query": {
        "type": "checkbox",
        "title": "クエリ拡張",
        "desc": "質問をモデルが資料の言葉に言い換えた語句でも検索します（モデルへの問い合わせが 1 回増えます）。",
    },
}


def evidence_markdown(cited: list[Passage]) -> str:
    """The 根拠 section: each cited passage with where it is, an excerpt and its link."""
    if not cited:
        return ""
    lines = ["", "### 根拠"]
    for passage in cited:
        excerpt = " ".join(passage.text.split())
        excerpt = excerpt if len(excerpt) <= EXCERPT_CHARS else excerpt[:EXCERPT_CHARS] + "…"
        link = f"（[{passage.link}]({passage.link})）" if passage.link else ""
        lines.append(f"- [{passage.number}] **{passage.label}**{link}: {excerpt}")
    return "\n".join(lines)


def _target(context: RunContext, kb_name: str, options: answering.AskOptions) -> SearchCallTarget:
    knowledge = wiring.active()
    scope = AccessScope(context.principal)
    with knowledge.database.session() as db:
        return answering.expansion_target(service.find_knowledge_base(db, scope, kb_name), scope, options)


def _retrieve(
    context: RunContext, kb_name: str, question: str, options: answering.AskOptions, expansion: Expansion | None
) -> answering.Retrieval:
    knowledge = wiring.active()
    scope = AccessScope(context.principal)
    with knowledge.database.session() as db:
        kb = service.find_knowledge_base(db, scope, kb_name)
        retrieval = answering.retrieve(db, scope, kb, knowledge.runtime(), question, options, expansion)
    return dataclasses.replace(retrieval, team_id=context.team_id or retrieval.team_id)


async def _expansion(
    context: RunContext, kb_name: str, question: str, options: answering.AskOptions
) -> Expansion | None:
    if context.gateway is None:
        return None
    target = await asyncio.to_thread(_target, context, kb_name, options)
    target = dataclasses.replace(target, team_id=context.team_id or target.team_id)
    return await expand_question(context.gateway, context.principal, question, target)


class RagQaApp:
    """RAG チャット"""

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="RAG チャット",
            description=(
                "ナレッジベースの資料に基づいて質問に答え、根拠の箇所（法令は条文と e-Gov へのリンク）を示します。"
            ),
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        options = answering.AskOptions(
            model=str(getattr(context, "model", None) or "default"),
            classification=getattr(context, "classification", None),
        )
        kb_name = str(inputs.get("knowledge_base") or "").strip()
        question = str(inputs.get("question") or "")
        expansion = await _expansion(context, kb_name, question, options) if inputs.get("expand_query") else None
        retrieval = await asyncio.to_thread(_retrieve, context, kb_name, question, options, expansion)
        if context.gateway is not None:
            retrieval = await answering.reranked(context.gateway, context.principal, retrieval, options)
        if not retrieval.relevant:
            spent = [*retrieval.expansion.usage, *retrieval.reranking.usage]
            context.usage.extend(spent)
            context.sent = []  # no model wrote this answer (the query expansion's call is not its prompt)
            return AppResult(outputs=NOT_FOUND_MESSAGE, usage=spent)
        if context.gateway is None:
            raise UpstreamFailed("モデルゲートウェイが利用できません。", code="gateway_unavailable")
        result = await answering.answer(context.gateway, context.principal, retrieval, options)
        context.usage.extend(result.usage)
        context.sent = result.prompt  # the question with the retrieved passages, as the model saw them
        notices = "".join(f"\n\n> {notice}" for notice in result.notices)
        return AppResult(outputs=result.text + notices + "\n" + evidence_markdown(result.cited), usage=result.usage)
