"""One BM25 field of one index segment: raw postings, so weights can use statistics of the whole index.

Per term, the postings (chunk positions within the segment) and their raw term frequencies lie
contiguously; every chunk's field length is kept. Nothing corpus-wide is baked in, so a segment
written once stays valid while other segments come and go: at query time the caller supplies the
global chunk count, average length and document frequency, and ``weights`` turns one term's
postings into Okapi BM25 weights — a cost proportional to that term's postings.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
K1 = 1.2
B = 0.75
_FILES = ("offsets", "postings", "tf", "lengths")


def _smallest_unsigned(largest: int) -> type[np.unsignedinteger]:
    for kind in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(kind).max:
            return kind
    return np.uint64


class TermPostings:
    def __init__(
        self, vocabulary: dict[str, int], offsets: np.ndarray, postings: np.ndarray, tf: np.ndarray, lengths: np.ndarray
    ) -> None:
        self.vocabulary = vocabulary
        self.offsets = offsets  # term t's postings are postings[offsets[t]:offsets[t+1]]
        self.postings = postings  # int32 chunk positions, ascending within a term
        self.tf = tf  # raw term frequency of each posting
        self.lengths = lengths  # int32 field length (number of terms) of each chunk

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> TermPostings:
        vocabulary: dict[str, int] = {}
        term_ids: list[int] = []
        positions: list[int] = []
        frequencies: list[int] = []
        for position, terms in enumerate(documents):
            for term, count in Counter(terms).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                positions.append(position)
                frequencies.append(count)
        ids = np.array(term_ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        tf = np.array(frequencies, dtype=np.int64)[order]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(ids, minlength=len(vocabulary)))]).astype(np.int64)
        return cls(
            vocabulary,
            offsets,
            np.array(positions, dtype=np.int32)[order],
            tf.astype(_smallest_unsigned(int(tf.max()) if len(tf) else 0)),
            np.array([len(terms) for terms in documents], dtype=np.int32),
        )

    def span(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The term's postings (positions) and their term frequencies; empty when the term is unknown."""
        i = self.vocabulary.get(term)
        if i is None:
            return self.postings[:0], self.tf[:0]
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.postings[start:end], self.tf[start:end]

    def save(self, directory: Path, name: str) -> None:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (directory / f"{name}.vocab.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        for part in _FILES:
            np.save(directory / f"{name}.{part}.npy", getattr(self, part))

    @classmethod
    def load(cls, directory: Path, name: str) -> TermPostings:
        terms = json.loads((directory / f"{name}.vocab.json").read_text(encoding="utf-8"))
        # plain ndarray views of the memory maps: slicing a np.memmap costs Python calls per term
        arrays = [np.asarray(np.load(directory / f"{name}.{part}.npy", mmap_mode="r")) for part in _FILES]
        loaded = cls({term: i for i, term in enumerate(terms)}, *arrays)
        if len(loaded.offsets) != len(terms) + 1 or len(loaded.postings) != len(loaded.tf):
            raise ValueError(f"inconsistent postings in {directory / name}")
        return loaded


def idf(chunks: int, containing: int) -> np.float32:
    return np.float32(math.log1p((chunks - containing + 0.5) / (containing + 0.5)))


def length_norms(lengths: np.ndarray, average: float) -> Floats:
    """``k1 * (1 - b + b * length / average)`` of each chunk (float32)."""
    return np.asarray(K1 * (1.0 - B + B * lengths.astype(np.float32) / average), dtype=np.float32)


def weights(tf: np.ndarray, norms: np.ndarray, term_idf: np.float32) -> Floats:
    """Okapi BM25 weight of each posting from its term frequency and its chunk's length norm (float32,
    the same operations in every segment, so a chunk's weight does not depend on which segment holds it)."""
    tf32 = tf.astype(np.float32)
    return np.asarray(term_idf * tf32 * (K1 + 1.0) / (tf32 + norms), dtype=np.float32)
