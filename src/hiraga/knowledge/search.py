"""Hybrid search: lexical (BM25 over Sudachi words + character bigrams) and dense (e5) candidates,
fused into one ranking.

Fusion methods (all measured in docs/benchmarks.md):
- ``rrf``: reciprocal-rank fusion, 1/(k + rank) summed over both lists;
- ``convex``: each list's scores min-max normalised over its candidates, then
  ``alpha * lexical + (1 - alpha) * dense`` (a candidate missing from a list gets that list's 0).
Then the top candidates are reranked by sentence coverage of the query (``hiraga.knowledge.rerank``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hiraga.knowledge.index.base import ChunkFilter, ScoredChunk, SearchIndex, Vector
from hiraga.knowledge.normalise import normalise_query
from hiraga.knowledge.rerank import ChunkTerms, FusedHit, QueryProfile, RerankConfig, rerank
from hiraga.knowledge.tokenise import search_terms

QueryEncoder = Callable[[str], Vector]


@dataclass(frozen=True, slots=True)
class FusionConfig:
    method: Literal["rrf", "convex", "lexical", "dense"] = "convex"
    candidates: int = 100  # taken from each list before fusion
    alpha: float = 0.5  # lexical share in convex fusion
    rrf_k: int = 60
    expansion_weight: float = 0.5  # weight of terms from model-written phrasings (hiraga.knowledge.expansion)


def _min_max(hits: Sequence[ScoredChunk]) -> dict[int, float]:
    if not hits:
        return {}
    scores = np.array([h.score for h in hits], dtype=np.float64)
    low, high = float(scores.min()), float(scores.max())
    span = high - low
    return {h.chunk_id: (h.score - low) / span if span > 0 else 1.0 for h in hits}


def fuse(lexical: Sequence[ScoredChunk], dense: Sequence[ScoredChunk], config: FusionConfig) -> list[FusedHit]:
    """One ranking from the two candidate lists, best first (ties broken by chunk id)."""
    combined: dict[int, float]
    raw_lex = {h.chunk_id: h.score for h in lexical}
    raw_dense = {h.chunk_id: h.score for h in dense}
    if config.method == "lexical":
        combined = dict(raw_lex)
    elif config.method == "dense":
        combined = dict(raw_dense)
    elif config.method == "rrf":
        combined = {}
        for candidates in (lexical, dense):
            for rank, hit in enumerate(candidates):
                combined[hit.chunk_id] = combined.get(hit.chunk_id, 0.0) + 1.0 / (config.rrf_k + rank + 1)
    else:
        lex, den = _min_max(lexical), _min_max(dense)
        combined = {
            cid: config.alpha * lex.get(cid, 0.0) + (1.0 - config.alpha) * den.get(cid, 0.0)
            for cid in lex.keys() | den.keys()
        }
    ranked = sorted(combined.items(), key=lambda item: (-item[1], item[0]))
    return [FusedHit(cid, score, raw_lex.get(cid), raw_dense.get(cid)) for cid, score in ranked]


@dataclass
class HybridSearcher:
    index: SearchIndex
    encode_query: QueryEncoder | None  # None: lexical only (no embedding model available)
    config: FusionConfig = field(default_factory=FusionConfig)
    rerank: RerankConfig | None = field(default_factory=RerankConfig)
    terms: ChunkTerms | None = None  # chunk id → stored terms, needed for reranking

    def query_terms(self, query: str, expansions: Sequence[str] = ()) -> list[str]:
        terms = search_terms(query)
        extra = [t for q in expansions for t in search_terms(normalise_query(q))]
        if extra:
            # phrasings count less than the question: repeat the question's terms instead
            repeat = max(1, round(1 / max(self.config.expansion_weight, 0.1)))
            terms = terms * repeat + extra
        return terms

    def search(
        self,
        kb_id: int,
        query: str,
        top_k: int = 10,
        allowed: ChunkFilter | None = None,
        expansions: Sequence[str] = (),
    ) -> list[FusedHit]:
        allowed = allowed or ChunkFilter()
        text = normalise_query(query)
        if not text:
            return []
        method = self.config.method
        lexical: list[ScoredChunk] = []
        dense: list[ScoredChunk] = []
        if method != "dense" or self.encode_query is None:
            lexical = self.index.lexical(kb_id, self.query_terms(text, expansions), self.config.candidates, allowed)
        if method != "lexical" and self.encode_query is not None:
            dense = self.index.dense(kb_id, self.encode_query(text), self.config.candidates, allowed)
        config = self.config if self.encode_query is not None else FusionConfig(method="lexical")
        fused = fuse(lexical, dense, config)
        if self.rerank is not None and self.terms is not None and fused:
            head = [h.chunk_id for h in fused[: self.rerank.depth]]
            profile = QueryProfile.of(text, lambda terms: self.index.inverse_frequencies(kb_id, terms))
            fused = rerank(fused, profile, self.terms(head), self.rerank)
        return fused[:top_k]
