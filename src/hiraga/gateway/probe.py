"""The admin's connection test: one short request of the endpoint's kind, straight to its provider
(no routing, no policy), and a one-line summary of the reply."""

from __future__ import annotations

from typing import cast

from hiraga.providers.base import EndpointConfig, Json, ModelProvider, RerankProvider, UpstreamError

PROBE_CHAT: Json = {
    "messages": [{"role": "user", "content": "「接続テスト成功」とだけ答えてください。"}],
    "max_tokens": 16,
}
PROBE_RERANK: Json = {"query": "接続テスト", "documents": ["接続テストの文書です。", "関係のない文書です。"]}


async def probe_reply(provider: ModelProvider, endpoint: EndpointConfig) -> str:
    """What the endpoint answered, in words; raises what the provider raises (KeyError, IndexError,
    TypeError for a reply of the wrong shape)."""
    if endpoint.kind == "embeddings":
        result = await provider.embed(endpoint, {"model": endpoint.name, "input": ["接続テスト"]})
        return f"{len(result['data'][0].get('embedding') or [])} 次元"
    if endpoint.kind == "rerank":
        scores = await reranker(provider).rerank(endpoint, {"model": endpoint.name, **PROBE_RERANK})
        return "スコア: " + ", ".join(f"{float(r['relevance_score']):.3f}" for r in scores["results"])
    result = await provider.chat(endpoint, PROBE_CHAT, caller="probe")
    return str((result["choices"][0].get("message") or {}).get("content") or "")


def reranker(provider: ModelProvider) -> RerankProvider:
    if not isinstance(provider, RerankProvider):
        raise UpstreamError(
            "このプロバイダーは再ランキング（rerank）に対応していません。", code="rerank_unsupported", retry_same=False
        )
    return cast(RerankProvider, provider)
