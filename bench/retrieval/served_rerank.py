"""Retrieval quality with a served reranker (``hiraga.knowledge.reranking``) over the shipped ranking.

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.served_rerank \\
        --url http://127.0.0.1:8001/v1 --model BAAI/bge-reranker-v2-m3 jsquad jaquad

Needs a model server answering ``/v1/rerank`` (``vllm serve BAAI/bge-reranker-v2-m3``, or llama.cpp's
``llama-server --reranking``); hiraga never downloads one. Per task, in one run: the peer bm25s, the
shipped ranking, and the shipped ranking's top ``RERANK_POOL`` ordered by the reranker — through
hiraga's own provider (``OpenAICompatibleProvider.rerank``) and reply check (``order_of``), as a
knowledge base with a reranker does. ``--limit N`` takes the first N questions (a quick look).
Results: ``bench/retrieval/results/served-rerank-<tasks>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.retrieval.evaluate import SHIPPED, Prepared, Scores, documents_of, peer_rankings, prepare, score
from bench.retrieval.results_file import save_json

from hiraga.knowledge.reranking import RERANK_POOL, order_of
from hiraga.providers.base import EndpointConfig
from hiraga.providers.openai_compatible import OpenAICompatibleProvider


async def reranked_rankings(
    ready: Prepared, pools: list[list[int]], endpoint: EndpointConfig, in_flight: int
) -> list[list[int]]:
    """Each question's pool (chunk ids) in the reranker's order, as document rankings."""
    host = endpoint.base_url.split("//", 1)[-1].split("/", 1)[0]
    provider = OpenAICompatibleProvider(allowed_hosts=[host])
    gate = asyncio.Semaphore(in_flight)

    async def one(question: str, pool: list[int]) -> list[int]:
        body: dict[str, Any] = {"query": question, "documents": [ready.passages[i].embedded_text for i in pool]}
        async with gate:
            reply = await provider.rerank(endpoint, body)
        return documents_of([pool[i] for i in order_of(reply, len(pool))], ready.passages)

    try:
        return list(await asyncio.gather(*(one(q, p) for q, p in zip(ready.queries, pools, strict=True))))
    finally:
        await provider.aclose()


def run(name: str, endpoint: EndpointConfig, limit: int | None, in_flight: int) -> dict[str, Any]:
    ready = prepare(name, limit)
    relevant = ready.task.relevant[: len(ready.queries)]
    results: dict[str, Any] = {"questions": len(ready.queries)}
    peer = peer_rankings(ready.task)[: len(ready.queries)]
    results["peer bm25s (Sudachi)"] = score(peer, relevant).__dict__
    with tempfile.TemporaryDirectory() as tmp:
        searcher = ready.searcher(Path(tmp), SHIPPED)
        pools = [[h.chunk_id for h in searcher.search(1, q, RERANK_POOL)] for q in ready.queries]
    results["hiraga shipped"] = score([documents_of(p, ready.passages) for p in pools], relevant).__dict__
    started = time.perf_counter()
    rankings = asyncio.run(reranked_rankings(ready, pools, endpoint, in_flight))
    reranked: Scores = score(rankings, relevant)
    results[f"hiraga shipped + {endpoint.upstream_model} (top {RERANK_POOL})"] = reranked.__dict__
    results["rerank seconds"] = round(time.perf_counter() - started, 1)
    print(name, json.dumps(results, ensure_ascii=False), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tasks", nargs="*", default=["jsquad"])
    parser.add_argument("--url", required=True, help="the model server's OpenAI-style base URL, e.g. http://h:8001/v1")
    parser.add_argument("--model", required=True, help="the reranker's name on that server")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each task")
    parser.add_argument("--in-flight", type=int, default=16, help="concurrent rerank requests")
    args = parser.parse_args()
    endpoint = EndpointConfig(
        id=0,
        name="bench-reranker",
        provider="openai",
        kind="rerank",
        base_url=args.url,
        upstream_model=args.model,
        api_key=args.api_key,
        timeout_seconds=120.0,
    )
    report = {name: run(name, endpoint, args.limit, args.in_flight) for name in args.tasks}
    save_json(f"served-rerank-{'-'.join(args.tasks)}.json", report)


if __name__ == "__main__":
    main()
