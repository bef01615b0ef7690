"""Fill the vector cache for the retrieval benchmarks: python -m bench.retrieval.prepare_vectors"""

from __future__ import annotations

import sys

from bench.retrieval import datasets
from bench.retrieval.corpus import passages_of_task
from bench.retrieval.vector_cache import VectorCache

from hiraga.knowledge.normalise import normalise_query
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder


def main(names: list[str]) -> None:
    cache = VectorCache()
    embedder = EmbeddedEmbedder.shared()
    for name in names:
        task = datasets.load(name)
        passages = [p.embedded_text for p in passages_of_task(task)]
        print(f"{name}: {len(passages)} passages, {len(task.questions)} questions", flush=True)
        cache.embed("passage", passages, embedder.embed_passages)
        cache.embed("query", [normalise_query(q) for q in task.questions], embedder.embed_queries)


if __name__ == "__main__":
    main(sys.argv[1:] or ["jsquad", "jaquad"])
