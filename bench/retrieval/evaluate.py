"""Retrieval quality: hiraga's hybrid search (variants) versus the peer bm25s over Sudachi tokens.

    .venv/bin/python -m bench.retrieval.evaluate jsquad jaquad

Vectors come from bench/retrieval/.cache (fill it with ``python -m bench.retrieval.prepare_vectors``);
a missing vector is embedded on the spot.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench.retrieval import datasets
from bench.retrieval.corpus import Passage, passages_of_task
from bench.retrieval.results_file import save_json
from bench.retrieval.vector_cache import VectorCache

from hiraga.knowledge.index.base import vector_to_bytes
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow
from hiraga.knowledge.normalise import normalise_query
from hiraga.knowledge.rerank import RerankConfig
from hiraga.knowledge.search import FusionConfig, HybridSearcher
from hiraga.knowledge.tokenise import indexed_terms, sentence_terms, words
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder


@dataclass(frozen=True)
class Scores:
    recall_1: float
    recall_5: float
    mrr_10: float


def score(rankings: Sequence[Sequence[int]], relevant: Sequence[int]) -> Scores:
    r1 = r5 = mrr = 0.0
    for ranked, gold in zip(rankings, relevant, strict=True):
        top = list(ranked[:10])
        if gold in top:
            rank = top.index(gold)
            mrr += 1.0 / (rank + 1)
            r1 += rank == 0
            r5 += rank < 5
    n = len(relevant)
    return Scores(round(r1 / n, 4), round(r5 / n, 4), round(mrr / n, 4))


def documents_of(chunk_ids: Iterable[int], passages: Sequence[Passage]) -> list[int]:
    """Chunk hits → distinct documents in rank order."""
    seen: list[int] = []
    for chunk_id in chunk_ids:
        document = passages[chunk_id].document
        if document not in seen:
            seen.append(document)
    return seen


class MemorySource:
    def __init__(self, rows: list[IndexRow]) -> None:
        self.rows = rows

    def generation(self, kb_id: int) -> int:
        return 1

    def searchable_rows(self, kb_id: int) -> list[IndexRow]:
        return self.rows


def peer_rankings(task: datasets.RetrievalTask) -> list[list[int]]:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([words(c) for c in task.contexts])
    query_tokens = [words(normalise_query(q)) or ["∅"] for q in task.questions]
    results, _ = retriever.retrieve(query_tokens, k=10)
    return [list(map(int, row)) for row in results]


Variant = tuple[float, FusionConfig, RerankConfig | None]


def hiraga_variants() -> dict[str, Variant]:
    """name → (bigram weight, fusion, reranking)."""
    variants: dict[str, Variant] = {
        "bm25 words": (0.0, FusionConfig(method="lexical"), None),
        "bm25 words+bigrams(0.5)": (0.5, FusionConfig(method="lexical"), None),
        "bm25 words+bigrams(1.0)": (1.0, FusionConfig(method="lexical"), None),
        "dense e5": (0.5, FusionConfig(method="dense"), None),
        "rrf k=60": (0.5, FusionConfig(method="rrf"), None),
        "rrf k=60 + sentence rerank": (0.5, FusionConfig(method="rrf"), RerankConfig(weight=0.03)),
        "bm25 words+bigrams + sentence rerank": (0.5, FusionConfig(method="lexical"), RerankConfig(weight=20.0)),
    }
    for alpha in (0.3, 0.5, 0.7):
        variants[f"convex a={alpha}"] = (0.5, FusionConfig(method="convex", alpha=alpha), None)
    for weight in (0.8, 1.2, 2.0):
        for share in (0.3, 0.7):
            variants[f"convex a=0.5 + sentence rerank w={weight} words={share}"] = (
                0.5,
                FusionConfig(method="convex", alpha=0.5),
                RerankConfig(weight=weight, word_share=share),
            )
    return variants


@dataclass
class Prepared:
    """One task ready to search: its passages, index rows, stored terms and query vectors."""

    task: datasets.RetrievalTask
    passages: list[Passage]
    queries: list[str]
    rows: list[IndexRow]
    stored: list[str]
    query_vectors: dict[str, list[float]]

    def searcher(self, directory: Path, variant: Variant) -> HybridSearcher:
        bigram_weight, config, reranking = variant
        index = EmbeddedIndex(directory, MemorySource(self.rows), bigram_weight=bigram_weight)
        stored = self.stored
        return HybridSearcher(
            index,
            self.query_vectors.__getitem__,
            config,
            rerank=reranking,
            terms=lambda ids: {i: stored[i] for i in ids},
        )


def prepare(name: str, limit: int | None = None) -> Prepared:
    """``limit``: only the first questions (all passages)."""
    task = datasets.load(name)
    passages = passages_of_task(task)
    cache = VectorCache()
    encoder = EmbeddedEmbedder.shared()
    vectors = cache.embed("passage", [p.embedded_text for p in passages], encoder.embed_passages)
    queries = [normalise_query(q) for q in task.questions[:limit]]
    query_vectors = dict(zip(queries, cache.embed("query", queries, encoder.embed_queries), strict=True))
    stored = [sentence_terms(p.embedded_text) for p in passages]
    rows = [
        IndexRow(i, p.document, indexed_terms(stored[i]), vector_to_bytes(vectors[i])) for i, p in enumerate(passages)
    ]
    return Prepared(task, passages, queries, rows, stored, query_vectors)


SHIPPED: Variant = (0.5, FusionConfig(), RerankConfig())  # what KnowledgeRuntime searches with


def run(name: str, variants: dict[str, Variant]) -> dict[str, Scores]:
    ready = prepare(name)
    task, passages, queries = ready.task, ready.passages, ready.queries
    results = {"peer bm25s (Sudachi)": score(peer_rankings(task), task.relevant)}
    print(f"{name:7s} {'peer bm25s (Sudachi)':32s} {results['peer bm25s (Sudachi)']}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for label, variant in variants.items():
            searcher = ready.searcher(Path(tmp), variant)
            started = time.perf_counter()
            rankings = [documents_of((h.chunk_id for h in searcher.search(1, q, 30)), passages) for q in queries]
            results[f"hiraga {label}"] = score(rankings, task.relevant)
            print(
                f"{name:7s} {label:32s} {results[f'hiraga {label}']} {time.perf_counter() - started:.1f}s", flush=True
            )
    return results


def main(names: list[str], variants: Callable[[], dict[str, Variant]] = hiraga_variants) -> None:
    report = {name: {k: v.__dict__ for k, v in run(name, variants()).items()} for name in names}
    save_json(f"quality-{'-'.join(names)}.json", report)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1:] or ["jsquad", "jaquad"])
