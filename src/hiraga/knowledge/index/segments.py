"""Index segments and search across them.

A ``Segment`` is an immutable directory of one batch of chunks: chunk and document ids, float32
vectors and the two BM25 fields (Sudachi words; "#"-prefixed character bigrams) as raw postings
(``postings.TermPostings``). A ``LiveSegment`` is a segment plus the positions deleted from it since
it was written (tombstones). ``SegmentView`` searches a list of live segments as one index: BM25
uses the chunk count, average field length and document frequencies of the *live* chunks of all
segments, computed at query time for the query's terms only, so every score equals the score a
single segment holding the same live chunks would give — exactly, operation for operation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiraga.knowledge.index import postings
from hiraga.knowledge.index.base import ChunkFilter, ScoredChunk, Vector, bm25_idf, vector_from_bytes
from hiraga.knowledge.index.postings import TermPostings

FIELDS = ("words", "bigrams")


@dataclass(frozen=True, slots=True)
class IndexRow:
    chunk_id: int
    document_id: int
    terms: Sequence[str]  # words, then "#"-prefixed character bigrams
    vector: bytes | None


def field_of(term: str) -> str:
    return "bigrams" if term.startswith("#") else "words"


class Segment:
    """One immutable batch of chunks, memory-mapped from its directory."""

    def __init__(self, directory: Path) -> None:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        self.name = directory.name
        self.size = int(meta["size"])
        self.chunk_ids = _mapped(directory / "chunk_ids.npy")
        self.document_ids = _mapped(directory / "document_ids.npy")
        self.vectors = _mapped(directory / "vectors.npy")
        self.fields = {name: TermPostings.load(directory, name) for name in FIELDS}
        sizes = {len(self.chunk_ids), len(self.document_ids), len(self.vectors)}
        sizes |= {len(f.lengths) for f in self.fields.values()}
        if sizes != {self.size} or self.vectors.shape[1:] != (int(meta["dimensions"]),):
            raise ValueError(f"inconsistent segment {directory}")

    @staticmethod
    def write(directory: Path, rows: Iterable[IndexRow], dimensions: int) -> int:
        """Write the rows as a new segment directory; returns the number of chunks."""
        listed = list(rows)
        directory.mkdir(parents=True)
        np.save(directory / "chunk_ids.npy", np.array([r.chunk_id for r in listed], dtype=np.int64))
        np.save(directory / "document_ids.npy", np.array([r.document_id for r in listed], dtype=np.int64))
        matrix = np.zeros((len(listed), dimensions), dtype=np.float32)
        for i, row in enumerate(listed):
            if row.vector is not None:
                matrix[i] = vector_from_bytes(row.vector)
        np.save(directory / "vectors.npy", matrix)
        TermPostings.build([[t for t in r.terms if not t.startswith("#")] for r in listed]).save(directory, "words")
        TermPostings.build([[t for t in r.terms if t.startswith("#")] for r in listed]).save(directory, "bigrams")
        meta = {"size": len(listed), "dimensions": dimensions}
        (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return len(listed)


class LiveSegment:
    """A segment and the positions deleted from it (its tombstones)."""

    def __init__(self, segment: Segment, deleted: np.ndarray | Sequence[int] = ()) -> None:
        self.segment = segment
        self.deleted = np.unique(np.asarray(deleted, dtype=np.int64))
        if len(self.deleted) and (self.deleted[0] < 0 or self.deleted[-1] >= segment.size):
            raise ValueError(f"tombstone out of range in segment {segment.name}")
        self.live: np.ndarray | None = None
        if len(self.deleted):
            self.live = np.ones(segment.size, dtype=bool)
            self.live[self.deleted] = False
        self.live_count = segment.size - len(self.deleted)
        self.field_length = {
            name: int(field.lengths.sum(dtype=np.int64) if self.live is None else field.lengths[self.live].sum())
            for name, field in segment.fields.items()
        }

    def delete_documents(self, document_ids: np.ndarray) -> LiveSegment:
        """This segment with every chunk of the given documents deleted (self when none is in it)."""
        hit = np.flatnonzero(np.isin(self.segment.document_ids, document_ids))
        if self.live is not None:
            hit = hit[self.live[hit]]
        return self if not len(hit) else LiveSegment(self.segment, np.concatenate([self.deleted, hit]))

    def live_span(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        positions, tf = self.segment.fields[field].span(term)
        if self.live is None or not len(positions):
            return positions, tf
        keep = self.live[positions]
        return positions[keep], tf[keep]


def top(chunk_ids: np.ndarray, scores: np.ndarray, limit: int) -> list[ScoredChunk]:
    """The ``limit`` best (score descending, chunk id ascending on ties) of finite candidates."""
    if limit <= 0 or not len(scores):
        return []
    if len(scores) > limit:
        kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores >= kth
        chunk_ids, scores = chunk_ids[keep], scores[keep]
    order = np.lexsort((chunk_ids, -scores))[:limit]
    return [ScoredChunk(int(chunk_ids[i]), float(scores[i])) for i in order]


class SegmentView:
    """Several live segments searched as one index."""

    def __init__(self, parts: Sequence[LiveSegment]) -> None:
        self.parts = list(parts)
        sizes = [p.segment.size for p in self.parts]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.size = int(self.starts[-1])
        self.live_count = sum(p.live_count for p in self.parts)
        self.chunk_ids = _concat([p.segment.chunk_ids for p in self.parts], np.int64)
        self.document_ids = _concat([p.segment.document_ids for p in self.parts], np.int64)
        self._norms: dict[str, list[np.ndarray]] = {}
        self.live = None
        if any(p.live is not None for p in self.parts):
            masks = [np.ones(p.segment.size, bool) if p.live is None else p.live for p in self.parts]
            self.live = np.concatenate(masks)

    def document_frequency(self, field: str, term: str) -> int:
        return sum(len(p.live_span(field, term)[0]) for p in self.parts)

    def average_length(self, field: str) -> float:
        total = sum(p.field_length[field] for p in self.parts)
        return total / self.live_count if self.live_count and total > 0 else 1.0

    def norms(self, field: str) -> list[np.ndarray]:
        """Per segment, every chunk's BM25 length normalisation under the view's average length
        (computed once per view: the same float32 operations a per-posting computation would do)."""
        if field not in self._norms:
            average = self.average_length(field)
            self._norms[field] = [postings.length_norms(p.segment.fields[field].lengths, average) for p in self.parts]
        return self._norms[field]

    def field_scores(self, field: str, terms: Sequence[str]) -> np.ndarray:
        """Float32 BM25 score of every position (0 for dead chunks and chunks without the terms).
        The work is per posting of the query's terms, plus one accumulator of the snapshot's size."""
        norms = self.norms(field)
        keys: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for term, count in Counter(terms).items():
            spans = [p.live_span(field, term) for p in self.parts]
            containing = sum(len(positions) for positions, _ in spans)
            if not containing:
                continue
            term_idf = postings.idf(self.live_count, containing)
            for index, (start, (positions, tf)) in enumerate(zip(self.starts, spans, strict=False)):
                if len(positions):
                    weights = postings.weights(tf, norms[index][positions], term_idf)
                    keys.append(positions + start if start else positions)
                    values.append(weights * count if count != 1 else weights)
        if not keys:
            return np.zeros(self.size, dtype=np.float32)
        summed = np.bincount(np.concatenate(keys), weights=np.concatenate(values), minlength=self.size)
        return summed.astype(np.float32)

    def lexical(
        self, terms: Sequence[str], bigram_weight: float, limit: int, allowed: ChunkFilter
    ) -> list[ScoredChunk]:
        scores = self.field_scores("words", [t for t in terms if not t.startswith("#")])
        if bigram_weight:
            scores += bigram_weight * self.field_scores("bigrams", [t for t in terms if t.startswith("#")])
        keep = scores > 0
        if allowed.document_ids is not None:
            keep &= np.isin(self.document_ids, _ids(allowed))
        found = np.flatnonzero(keep)
        return top(self.chunk_ids[found], scores[found], limit)

    def dense(self, query: Vector, limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        q = np.asarray(query, dtype=np.float32)
        scores = _concat([np.asarray(p.segment.vectors @ q, dtype=np.float32) for p in self.parts], np.float32)
        keep = np.isfinite(scores) if self.live is None else self.live & np.isfinite(scores)
        if allowed.document_ids is not None:
            keep &= np.isin(self.document_ids, _ids(allowed))
        return top(self.chunk_ids[keep], scores[keep], limit)

    def inverse_frequencies(self, terms: Sequence[str]) -> dict[str, float]:
        return {t: bm25_idf(self.live_count, self.document_frequency(field_of(t), t)) for t in terms}


def _mapped(path: Path) -> np.ndarray:
    """A memory-mapped array as a plain ndarray view (slicing a ``np.memmap`` costs Python calls)."""
    return np.asarray(np.load(path, mmap_mode="r"))


def _concat(arrays: Sequence[np.ndarray], dtype: type[np.generic]) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _ids(allowed: ChunkFilter) -> np.ndarray:
    return np.fromiter(allowed.document_ids or (), dtype=np.int64)
