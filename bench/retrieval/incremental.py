"""Incremental index: time from "one new document of 20 chunks committed" to "the first search returns
it", at 10k and 100k chunks — with a full rebuild of the embedded index (before) and with a delta
segment (after). Everything goes through a real SQLite database and ``DatabaseChunkSource``.

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.incremental

The corpus is built like ``bench.retrieval.scale``'s (the 3 741 distinct JSQuAD/JaQuAD/law passages
repeated with copy markers, cached e5 vectors), stored as READY documents of 20 chunks. The new
documents are passages held out of that corpus; each is committed the way an ingestion job commits
(chunks + READY + generation + 1 in one transaction), then timed: one full hybrid search (BM25 both
fields + dense + fusion + rerank, query vector given) for a sentence of its first chunk, which must
return one of its chunks in the top 10.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from bench.retrieval import datasets
from bench.retrieval.results_file import save_json
from bench.retrieval.scale import base_texts
from bench.retrieval.vector_cache import VectorCache
from sqlalchemy import insert

from hiraga.knowledge.index.base import ChunkFilter, vector_to_bytes
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow
from hiraga.knowledge.normalise import normalise_query
from hiraga.knowledge.runtime import DatabaseChunkSource
from hiraga.knowledge.search import HybridSearcher
from hiraga.knowledge.tokenise import sentence_terms
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import KbChunk, KbDocument, KnowledgeBase, Organisation
from hiraga.store.tables.knowledge import DocumentStatus

DOCUMENT_CHUNKS = 20
AFTER_REPEATS = 5


class FullRebuildOnly:
    """The database source without document versions: every change rebuilds the whole snapshot."""

    def __init__(self, inner: DatabaseChunkSource) -> None:
        self.inner = inner

    def generation(self, kb_id: int) -> int:
        return self.inner.generation(kb_id)

    def searchable_rows(self, kb_id: int) -> Iterable[IndexRow]:
        return self.inner.searchable_rows(kb_id)


class Corpus:
    def __init__(self, texts: list[str], vectors: np.ndarray, held_out: int) -> None:
        self.texts = texts[:-held_out]
        self.vectors = vectors[:-held_out]
        self.new_texts = texts[-held_out:]
        self.new_vectors = vectors[-held_out:]
        started = time.perf_counter()
        self.stored = [sentence_terms(t) for t in texts]
        self.tokenise_s = time.perf_counter() - started
        self.new_stored = self.stored[-held_out:]
        self.stored = self.stored[:-held_out]


def populate(database: Database, corpus: Corpus, size: int) -> int:
    """A knowledge base of ``size`` chunks in READY documents of 20 chunks; returns its id."""
    with database.session() as db:
        organisation = Organisation(name="ベンチ市")
        db.add(organisation)
        db.flush()
        kb = KnowledgeBase(organisation_id=organisation.id, name="bench", classification=1, generation=1)
        db.add(kb)
        db.flush()
        kb_id = kb.id
    n = len(corpus.texts)
    for first in range(0, size, 10_000):
        documents = range(first // DOCUMENT_CHUNKS, min(first + 10_000, size) // DOCUMENT_CHUNKS)
        chunks = []
        for i in range(first, min(first + 10_000, size)):
            copy, source = divmod(i, n)
            marker = f" 写し{copy}" if copy else ""
            text = corpus.texts[source]
            chunks.append(
                {
                    "kb_id": kb_id,
                    "document_id": i // DOCUMENT_CHUNKS + 1,
                    "ordinal": i % DOCUMENT_CHUNKS,
                    "text": text + marker,
                    "terms": corpus.stored[source] + marker,
                    "vector": vector_to_bytes(corpus.vectors[source]),
                }
            )
        with database.session() as db:
            db.execute(insert(KbDocument), [_document(kb_id, d + 1, f"doc-{d}") for d in documents])
            db.execute(insert(KbChunk), chunks)
    return kb_id


def _document(kb_id: int, document_id: int, name: str) -> dict[str, object]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {
        "id": document_id,
        "kb_id": kb_id,
        "name": name,
        "title": name,
        "content_hash": digest,
        "byte_size": 0,
        "status": DocumentStatus.READY,
        "chunk_count": DOCUMENT_CHUNKS,
    }


def commit_document(database: Database, kb_id: int, corpus: Corpus, number: int) -> tuple[set[int], str, np.ndarray]:
    """Commit held-out passages as one new READY document, as an ingestion job does; returns its chunk
    ids, a query (a sentence of its first chunk) and that chunk's vector."""
    part = slice(number * DOCUMENT_CHUNKS, (number + 1) * DOCUMENT_CHUNKS)
    with database.session() as db:
        document = KbDocument(**_document(kb_id, 10**7 + number, f"new-{number}"))
        db.add(document)
        db.flush()
        rows = [
            KbChunk(kb_id=kb_id, document_id=document.id, ordinal=i, text=text, terms=stored, vector=vector_to_bytes(v))
            for i, (text, stored, v) in enumerate(
                zip(corpus.new_texts[part], corpus.new_stored[part], corpus.new_vectors[part], strict=True)
            )
        ]
        db.add_all(rows)
        db.flush()
        kb = db.get(KnowledgeBase, kb_id)
        assert kb is not None
        kb.generation += 1
        ids = {r.id for r in rows}
    first = corpus.new_texts[part][0]
    query = normalise_query(first.split("\n")[-1].split("。")[0])[:60]
    return ids, query, corpus.new_vectors[part][0]


def searcher_over(index: EmbeddedIndex, database: Database) -> tuple[HybridSearcher, list[np.ndarray]]:
    holder: list[np.ndarray] = [np.zeros(384, np.float32)]
    terms = DatabaseTerms(database)
    return HybridSearcher(index, lambda _text: holder[0], terms=terms), holder


class DatabaseTerms:
    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, chunk_ids: list[int]) -> dict[int, str]:
        with self.database.session() as db:
            found = db.query(KbChunk.id, KbChunk.terms).filter(KbChunk.id.in_(chunk_ids)).all()
            return {int(i): str(t) for i, t in found}


def time_to_visible(
    index: EmbeddedIndex, database: Database, kb_id: int, corpus: Corpus, numbers: Sequence[int]
) -> list[float]:
    searcher, vector = searcher_over(index, database)
    seconds = []
    for number in numbers:
        ids, query, vector[0] = commit_document(database, kb_id, corpus, number)
        started = time.perf_counter()
        hits = searcher.search(kb_id, query, 10, ChunkFilter())
        seconds.append(time.perf_counter() - started)
        if not ids & {h.chunk_id for h in hits}:
            raise AssertionError(f"the new document {number} was not found by {query!r}")
    return seconds


def query_latency_ms(index: EmbeddedIndex, database: Database, kb_id: int, queries: dict[str, np.ndarray]) -> float:
    searcher, vector = searcher_over(index, database)
    times = []
    for query, qvec in queries.items():
        vector[0] = qvec
        started = time.perf_counter()
        searcher.search(kb_id, query, 10)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times[10:]), 1)


def measure(size: int, corpus: Corpus, queries: dict[str, np.ndarray], before_repeats: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        migrate.upgrade(f"sqlite:///{tmp}/bench.db")
        database = Database(f"sqlite:///{tmp}/bench.db")
        kb_id = populate(database, corpus, size)
        source = DatabaseChunkSource(database)
        after = EmbeddedIndex(Path(tmp) / "after", source)
        started = time.perf_counter()
        after.snapshot(kb_id)
        full_build = time.perf_counter() - started
        delta = time_to_visible(after, database, kb_id, corpus, range(AFTER_REPEATS))
        segments = len(after.snapshot(kb_id).parts)
        latency_with_deltas = query_latency_ms(after, database, kb_id, queries)
        before = EmbeddedIndex(Path(tmp) / "before", FullRebuildOnly(source))
        before.snapshot(kb_id)
        latency_one_segment = query_latency_ms(before, database, kb_id, queries)
        full = time_to_visible(before, database, kb_id, corpus, range(AFTER_REPEATS, AFTER_REPEATS + before_repeats))
        database.dispose()
    return {
        "chunks": size,
        "first_build_from_database_s": round(full_build, 1),
        "before_full_rebuild_s": [round(s, 1) for s in full],
        "after_delta_ms": [round(s * 1000) for s in delta],
        "after_delta_median_ms": round(statistics.median(delta) * 1000),
        "segments_after_deltas": segments,
        "query_p50_ms_with_deltas": latency_with_deltas,
        "query_p50_ms_one_segment": latency_one_segment,
    }


def embed_missing(kind: str) -> Callable[[list[str]], list[list[float]]]:
    """The e5 model for the few texts the vector cache lacks (loaded only then)."""

    def encode(texts: list[str]) -> list[list[float]]:
        from hiraga.providers.embedded.embeddings import EmbeddedEmbedder

        embedder = EmbeddedEmbedder.shared()
        return embedder.embed_passages(texts) if kind == "passage" else embedder.embed_queries(texts)

    return encode


def main() -> None:
    cache = VectorCache()
    texts = base_texts()
    held_out = DOCUMENT_CHUNKS * (AFTER_REPEATS + 2)
    corpus = Corpus(texts, cache.embed("passage", texts, embed_missing("passage")), held_out)
    questions = [normalise_query(q) for q in datasets.load("jsquad").questions[:60]]
    queries = dict(zip(questions, cache.embed("query", questions, embed_missing("query")), strict=True))
    report: dict[str, object] = {
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "distinct_texts": len(corpus.texts),
        "tokenise_s": round(corpus.tokenise_s, 1),
        "sizes": [measure(10_000, corpus, queries, 2), measure(100_000, corpus, queries, 1)],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    save_json("incremental.json", report)


if __name__ == "__main__":
    main()
