"""What the default search's JSQuAD top-1 misses are: how many rank a paragraph of the same article
first, and how many of those wrong first paragraphs contain one of the question's gold answers.

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.misses
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.retrieval import datasets
from bench.retrieval.corpus import passages_of_task
from bench.retrieval.evaluate import MemorySource, documents_of
from bench.retrieval.vector_cache import VectorCache

from hiraga.knowledge.index.base import vector_to_bytes
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow
from hiraga.knowledge.normalise import normalise_query
from hiraga.knowledge.search import HybridSearcher
from hiraga.knowledge.tokenise import indexed_terms, sentence_terms
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder


def gold_answers() -> list[list[str]]:
    data = json.loads((datasets.DATA / "jsquad" / "valid-v1.3.json").read_text(encoding="utf-8"))["data"]
    return [[a["text"] for a in qa["answers"]] for art in data for p in art["paragraphs"] for qa in p["qas"]]


def main() -> None:
    task = datasets.load("jsquad")
    passages = passages_of_task(task)
    cache, encoder = VectorCache(), EmbeddedEmbedder.shared()
    vectors = cache.embed("passage", [p.embedded_text for p in passages], encoder.embed_passages)
    queries = [normalise_query(q) for q in task.questions]
    query_vectors = dict(zip(queries, cache.embed("query", queries, encoder.embed_queries), strict=True))
    stored = [sentence_terms(p.embedded_text) for p in passages]
    rows = [
        IndexRow(i, p.document, indexed_terms(stored[i]), vector_to_bytes(vectors[i])) for i, p in enumerate(passages)
    ]
    counts = {"questions": len(queries), "misses": 0, "same_article": 0, "first_contains_gold_answer": 0}
    with tempfile.TemporaryDirectory() as tmp:
        index = EmbeddedIndex(Path(tmp), MemorySource(rows))
        searcher = HybridSearcher(index, query_vectors.__getitem__, terms=lambda ids: {i: stored[i] for i in ids})
        for query, gold, answers in zip(queries, task.relevant, gold_answers(), strict=True):
            ranked = documents_of((h.chunk_id for h in searcher.search(1, query, 30)), passages)
            if ranked and ranked[0] != gold:
                first = task.contexts[ranked[0]]
                counts["misses"] += 1
                counts["same_article"] += first.split("[SEP]")[0] == task.contexts[gold].split("[SEP]")[0]
                counts["first_contains_gold_answer"] += any(a in first for a in answers)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
