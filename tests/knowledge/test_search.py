from __future__ import annotations

from hiraga.knowledge.index.base import ScoredChunk
from hiraga.knowledge.rerank import FusedHit, QueryProfile, RerankConfig, rerank
from hiraga.knowledge.search import FusionConfig, fuse
from hiraga.knowledge.tokenise import SENTENCE_MARK, indexed_terms, sentence_terms

LEXICAL = [ScoredChunk(1, 9.0), ScoredChunk(2, 6.0), ScoredChunk(3, 3.0)]
DENSE = [ScoredChunk(3, 0.9), ScoredChunk(4, 0.8), ScoredChunk(1, 0.7)]


def test_reciprocal_rank_fusion_sums_one_over_k_plus_rank() -> None:
    fused = {h.chunk_id: h.score for h in fuse(LEXICAL, DENSE, FusionConfig(method="rrf", rrf_k=60))}
    assert fused[1] == 1 / 61 + 1 / 63
    assert fused[3] == 1 / 63 + 1 / 61
    assert fused[4] == 1 / 62


def test_convex_fusion_mixes_min_max_normalised_scores() -> None:
    hits = fuse(LEXICAL, DENSE, FusionConfig(method="convex", alpha=0.5))
    scores = {h.chunk_id: round(h.score, 6) for h in hits}
    assert scores == {1: 0.5, 2: 0.25, 3: 0.5, 4: 0.25}
    assert [h.chunk_id for h in hits][:2] == [1, 3]  # equal scores: the lower chunk id first
    assert hits[0].lexical == 9.0 and hits[0].dense == 0.7


def test_stored_terms_keep_sentences_apart_and_the_mark_is_not_indexed() -> None:
    stored = sentence_terms("住民票は窓口で交付する。印鑑は不要です。")
    assert stored.count(SENTENCE_MARK) == 1
    assert SENTENCE_MARK not in indexed_terms(stored) and "住民票" in indexed_terms(stored)


def test_rerank_prefers_the_chunk_with_one_sentence_covering_the_query() -> None:
    scattered = sentence_terms("住民票の話をする。交付の話は別にする。窓口は二階にある。")
    together = sentence_terms("住民票は一階の窓口で交付する。")
    profile = QueryProfile.of("住民票を交付する窓口", lambda terms: dict.fromkeys(terms, 1.0))
    assert profile.best_sentence(together, 0.5) > profile.best_sentence(scattered, 0.5)
    hits = [FusedHit(1, 0.60), FusedHit(2, 0.55), FusedHit(3, 0.10)]
    reranked = rerank(hits, profile, {1: scattered, 2: together, 3: ""}, RerankConfig(depth=2, weight=1.0))
    assert [h.chunk_id for h in reranked] == [2, 1, 3]  # the third lies below the depth and keeps its place
