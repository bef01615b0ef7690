"""Okapi BM25 over one fixed, in-memory set of pre-tokenised chunks, weights precomputed.

The reference scorer: the product's embedded index scores segments with global live statistics
(``postings.py``, ``segments.py``); this single-set implementation, written independently of it, is
what ``tests/knowledge/index/test_incremental_index.py`` checks those scores against and what the
retrieval study (``bench/retrieval/tune.py``) ranks with. Per term, the postings and their BM25
weights lie contiguously; a query adds the weights of its terms with one ``bincount``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]


class Bm25Field:
    def __init__(
        self, vocabulary: dict[str, int], offsets: np.ndarray, postings: np.ndarray, weights: np.ndarray, size: int
    ) -> None:
        self.vocabulary = vocabulary
        self.offsets = offsets  # term t's postings are postings[offsets[t]:offsets[t+1]]
        self.postings = postings
        self.weights = weights
        self.size = size

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> Bm25Field:
        vocabulary: dict[str, int] = {}
        term_ids: list[int] = []
        positions: list[int] = []
        frequencies: list[int] = []
        for position, terms in enumerate(documents):
            for term, count in Counter(terms).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                positions.append(position)
                frequencies.append(count)
        n = len(documents)
        lengths = np.array([len(terms) for terms in documents], dtype=np.float32)
        average = float(lengths.mean()) if n and lengths.mean() > 0 else 1.0
        ids = np.array(term_ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids, docs = ids[order], np.array(positions, dtype=np.int64)[order]
        tf = np.array(frequencies, dtype=np.float32)[order]
        df = np.bincount(ids, minlength=len(vocabulary)).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1.0 - b + b * lengths[docs] / average) if n else np.zeros(0, np.float32)
        weights = (idf[ids] * tf * (k1 + 1.0) / (tf + norm)).astype(np.float32)
        offsets = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(vocabulary, offsets, docs.astype(np.int32), weights, n)

    def scores(self, terms: Sequence[str]) -> Floats:
        """BM25 score of every chunk for the query terms (repeated terms count repeatedly)."""
        spans = [
            (self.offsets[i], self.offsets[i + 1], weight)
            for term, weight in Counter(terms).items()
            if (i := self.vocabulary.get(term)) is not None
        ]
        if not spans:
            return np.zeros(self.size, dtype=np.float32)
        positions = np.concatenate([self.postings[a:b] for a, b, _ in spans])
        weights = np.concatenate([self.weights[a:b] * w for a, b, w in spans])
        return np.bincount(positions, weights=weights, minlength=self.size).astype(np.float32)

    def document_frequency(self, term: str) -> int:
        i = self.vocabulary.get(term)
        return 0 if i is None else int(self.offsets[i + 1] - self.offsets[i])
