"""Reranking by a served cross-encoder, opt-in per knowledge base.

The built-in ranking (BM25 + e5 + the sentence reranker, ``hiraga.knowledge.search``) is all that
runs on two CPU cores. A deployment with a model server can register a reranker (an endpoint of
kind ``rerank``: vLLM, llama.cpp server or Infinity serving e.g. bge-reranker-v2-m3 at
``/v1/rerank``) and name it on a knowledge base; search and answers then take the top
``RERANK_POOL`` of the built-in ranking and order them by the reranker's scores.

The reranker reads the question and the passages, so the call goes through the gateway like any
model call: as the caller, at the knowledge base's 機密性 (a reranker not cleared for it is
refused), audited and with its usage recorded (source ``rag-rerank:<kb>``). Whatever goes wrong —
refused, unreachable, a malformed reply — the built-in order is kept and a notice says so: a
reranker improves an answer, it never blocks one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hiraga.apps.protocol import UsageEntry
from hiraga.apps.provider_side import usage_entry
from hiraga.errors import HiragaError
from hiraga.gateway.protocol import rerank_usage
from hiraga.gateway.service import Gateway, input_estimate
from hiraga.identity.principal import Principal
from hiraga.knowledge.runtime import SearchHit
from hiraga.knowledge.search_calls import SearchCallTarget, search_call
from hiraga.spine.call import Usage

log = logging.getLogger("hiraga.knowledge")
RERANK_POOL = 20  # candidates of the built-in ranking the reranker orders
FAILED_NOTICE = "再ランキング用モデル「{model}」を使えなかったため、標準の順位で表示しています（{reason}）。"
T = TypeVar("T")


@dataclass(slots=True)
class Reranking:
    """What the reranker did for one search: its name when its order was used, usage, notices."""

    model: str | None = None
    usage: list[UsageEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def candidate_count(reranker: str | None, top_k: int) -> int:
    """How many results to search for when ``top_k`` are shown: the reranker's pool if there is one."""
    return max(top_k, RERANK_POOL) if reranker else top_k


def hit_text(hit: SearchHit) -> str:
    """What the reranker reads of a search hit: its heading path (law, article) and its text."""
    return "\n".join([" ".join(hit.heading_path), hit.text]).strip()


def order_of(reply: Any, count: int) -> list[int]:
    """The document indices of a rerank reply, highest ``relevance_score`` first; documents the
    reply does not score (a ``top_n`` upstream) follow in their given order. Raises ValueError
    for a reply that names an index twice or out of range."""
    scored: dict[int, float] = {}
    for result in reply.get("results") or []:
        index, score = result["index"], float(result["relevance_score"])
        if not isinstance(index, int) or not 0 <= index < count or index in scored:
            raise ValueError(f"bad index {index!r}")
        scored[index] = score
    ranked = sorted(scored, key=lambda i: (-scored[i], i))
    return ranked + [i for i in range(count) if i not in scored]


async def rerank(
    gateway: Gateway,
    principal: Principal,
    query: str,
    items: Sequence[T],
    text_of: Callable[[T], str],
    target: SearchCallTarget,
) -> tuple[list[T], Reranking]:
    """``items`` in the reranker's order; in the given order, with a notice, when it cannot be used."""
    if len(items) < 2:
        return list(items), Reranking()
    body: dict[str, Any] = {"model": target.model, "query": query, "documents": [text_of(i) for i in items]}
    try:
        answer = await gateway.rerank(search_call(principal, target, body, kind="rerank", purpose="rag-rerank"), body)
        order = order_of(answer.body, len(items))
    except (HiragaError, KeyError, TypeError, ValueError) as exc:
        reason = exc.message if isinstance(exc, HiragaError) else "応答の形式が正しくありません"
        log.warning("reranker %s not used for kb %s: %s", target.model, target.knowledge_base_id, reason)
        return list(items), Reranking(notices=[FAILED_NOTICE.format(model=target.model, reason=reason.rstrip("。"))])
    counted = rerank_usage(answer.body) or Usage(input_estimate(body), 0, estimated=True)
    return [items[i] for i in order], Reranking(answer.endpoint.name, [usage_entry(answer.endpoint, counted)])
