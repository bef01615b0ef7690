"""Second stage: rerank the fused top candidates with a small learned linear scorer.

Most questions are written against one sentence, so most features measure how well the chunk's
sentences cover the query's IDF mass — separately for Sudachi words and character bigrams: the
best sentence (by a 0.3 : 0.7 mix), the best any sentence reaches on each, the best adjacent pair
and the whole chunk. With the fused score (relative to the best candidate's) and the dense
similarity (min-max over the candidates, and minus the best candidate's) they are combined by fixed
weights fit on a dev half of JSQuAD valid (split by article; ``bench/retrieval/tune.py``,
docs/benchmarks.md "Retrieval"). A candidate outside the dense list counts as that list's lowest.
The stored term strings carry the sentences, so nothing is tokenised at query time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from hiraga.knowledge.tokenise import SENTENCE_MARK, char_bigrams, words

ChunkTerms = Callable[[list[int]], Mapping[int, str]]  # chunk id → stored term string
InverseFrequencies = Callable[[Sequence[str]], Mapping[str, float]]

SENTENCE_WORD_SHARE = 0.3  # words' share when one number ranks sentences (the rest: bigrams)
FEATURES = ("fused", "dense", "dense_gap", "sentence_words", "sentence_bigrams", "most_words", "most_bigrams",
            "adjacent_pair", "chunk_words", "chunk_bigrams")  # fmt: skip


def _learned_weights() -> dict[str, float]:
    """Fit on JSQuAD valid's dev half (``bench.retrieval.tune --impute``, "fit product"). The coverage
    features carry the lexical evidence, so the fused score itself ends up with a small negative weight."""
    return {
        "fused": -0.622,
        "dense": 2.358,
        "dense_gap": 32.22,
        "sentence_words": 0.05,
        "sentence_bigrams": 0.259,
        "most_words": 4.629,
        "most_bigrams": 0.861,
        "adjacent_pair": 1.621,
        "chunk_words": 3.062,
        "chunk_bigrams": 5.385,
    }


@dataclass(frozen=True, slots=True)
class FusedHit:
    chunk_id: int
    score: float
    lexical: float | None = None
    dense: float | None = None


@dataclass(frozen=True, slots=True)
class RerankConfig:
    depth: int = 50  # how many fused candidates are reranked
    weights: Mapping[str, float] = field(default_factory=_learned_weights)


@dataclass(frozen=True, slots=True)
class QueryProfile:
    words: Mapping[str, float]  # word → idf
    bigrams: Mapping[str, float]

    @classmethod
    def of(cls, query: str, idf: InverseFrequencies) -> QueryProfile:
        query_words, query_bigrams = set(words(query)), set(char_bigrams(query))
        weights = idf([*query_words, *query_bigrams])
        return cls({t: weights.get(t, 0.0) for t in query_words}, {t: weights.get(t, 0.0) for t in query_bigrams})

    def _shares(self, terms: set[str]) -> tuple[float, float]:
        """IDF share of the query's words and of its bigrams found in ``terms``."""
        word_mass = sum(self.words.values()) or 1.0
        bigram_mass = sum(self.bigrams.values()) or 1.0
        return (
            sum(self.words[t] for t in terms.intersection(self.words)) / word_mass,
            sum(self.bigrams[t] for t in terms.intersection(self.bigrams)) / bigram_mass,
        )

    def best_sentence(self, stored_terms: str, word_share: float = SENTENCE_WORD_SHARE) -> float:
        """The best single sentence's IDF-weighted coverage of the query, in [0, 1]."""
        shares = [self._shares(set(s.split())) for s in stored_terms.split(SENTENCE_MARK)]
        return max(word_share * w + (1 - word_share) * b for w, b in shares)

    def coverage(self, stored_terms: str) -> dict[str, float]:
        """The coverage features of one chunk (see the module docstring)."""
        sentences = [set(s.split()) for s in stored_terms.split(SENTENCE_MARK)]
        shares = [self._shares(s) for s in sentences]
        mixed = [SENTENCE_WORD_SHARE * w + (1 - SENTENCE_WORD_SHARE) * b for w, b in shares]
        best = max(range(len(mixed)), key=mixed.__getitem__)
        pairs = [self._shares(a | b) for a, b in pairwise(sentences)]
        chunk_words, chunk_bigrams = self._shares(set().union(*sentences))
        return {
            "sentence_words": shares[best][0],
            "sentence_bigrams": shares[best][1],
            "most_words": max(w for w, _ in shares),
            "most_bigrams": max(b for _, b in shares),
            "adjacent_pair": max(
                (SENTENCE_WORD_SHARE * w + (1 - SENTENCE_WORD_SHARE) * b for w, b in pairs), default=mixed[best]
            ),
            "chunk_words": chunk_words,
            "chunk_bigrams": chunk_bigrams,
        }


def dense_features(head: Sequence[FusedHit], floor: float | None) -> list[tuple[float, float]]:
    """(min-max dense score over ``head``, dense score minus the best in ``head``) per hit; a hit outside
    the dense candidates counts as ``floor`` (the lowest dense candidate's score), all 0 without dense."""
    if floor is None:
        return [(0.0, 0.0)] * len(head)
    values = [floor if h.dense is None else h.dense for h in head]
    low, high = min(values), max(values)
    span = high - low
    return [((v - low) / span if span > 0 else 1.0, v - high) for v in values]


def rerank(
    hits: Sequence[FusedHit],
    profile: QueryProfile,
    texts: Mapping[int, str],
    config: RerankConfig,
    dense_floor: float | None = None,
) -> list[FusedHit]:
    """``hits`` (best first) with the top ``depth`` reordered by the learned score; the rest follow."""
    head, tail = list(hits[: config.depth]), list(hits[config.depth :])
    weights = config.weights
    best_fused = max((h.score for h in head), default=0.0)
    rescored = []
    for hit, (dense, dense_gap) in zip(head, dense_features(head, dense_floor), strict=True):
        features = profile.coverage(texts.get(hit.chunk_id, "")) | {
            "fused": hit.score / best_fused if best_fused > 0 else 0.0,
            "dense": dense,
            "dense_gap": dense_gap,
        }
        rescored.append(replace(hit, score=sum(weights.get(k, 0.0) * v for k, v in features.items())))
    rescored.sort(key=lambda h: (-h.score, h.chunk_id))
    return rescored + tail
