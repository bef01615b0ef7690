"""The embedded index: files in the data directory, memory-mapped, rebuilt per generation.

The database holds every chunk (text, terms, vector); this index is a derived, read-only
snapshot of one knowledge base's *searchable* chunks, written to
``<data_dir>/knowledge/kb-<id>/g<generation>/`` and swapped in atomically. When ingestion makes a
document searchable (or deletes one), the knowledge base's generation goes up and the next search
builds the new snapshot; a half-ingested document is never in any snapshot.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from hiraga.knowledge.index.base import ChunkFilter, ScoredChunk, Vector, bm25_idf, vector_from_bytes
from hiraga.knowledge.index.bm25 import Bm25Field


@dataclass(frozen=True, slots=True)
class IndexRow:
    chunk_id: int
    document_id: int
    terms: Sequence[str]  # words, then "#"-prefixed character bigrams
    vector: bytes | None


class ChunkSource(Protocol):
    def generation(self, kb_id: int) -> int: ...

    def searchable_rows(self, kb_id: int) -> Iterable[IndexRow]: ...


class Snapshot:
    """One knowledge base's searchable chunks at one generation."""

    def __init__(self, directory: Path) -> None:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        self.directory = directory
        self.size = int(meta["size"])
        self.chunk_ids = np.load(directory / "chunk_ids.npy", mmap_mode="r")
        self.document_ids = np.load(directory / "document_ids.npy", mmap_mode="r")
        self.vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        self.words = Bm25Field.load(directory, "words", self.size)
        self.bigrams = Bm25Field.load(directory, "bigrams", self.size)

    @staticmethod
    def write(directory: Path, rows: Iterable[IndexRow], dimensions: int) -> None:
        listed = list(rows)
        directory.mkdir(parents=True)
        np.save(directory / "chunk_ids.npy", np.array([r.chunk_id for r in listed], dtype=np.int64))
        np.save(directory / "document_ids.npy", np.array([r.document_id for r in listed], dtype=np.int64))
        matrix = np.zeros((len(listed), dimensions), dtype=np.float32)
        for i, row in enumerate(listed):
            if row.vector is not None:
                matrix[i] = vector_from_bytes(row.vector)
        np.save(directory / "vectors.npy", matrix)
        Bm25Field.build([[t for t in r.terms if not t.startswith("#")] for r in listed]).save(directory, "words")
        Bm25Field.build([[t for t in r.terms if t.startswith("#")] for r in listed]).save(directory, "bigrams")
        (directory / "meta.json").write_text(json.dumps({"size": len(listed), "dimensions": dimensions}))

    def mask(self, allowed: ChunkFilter) -> np.ndarray | None:
        if allowed.document_ids is None:
            return None
        return np.isin(self.document_ids, np.fromiter(allowed.document_ids, dtype=np.int64))

    def top(self, scores: np.ndarray, limit: int, allowed: ChunkFilter, *, positive: bool) -> list[ScoredChunk]:
        mask = self.mask(allowed)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        if positive:
            scores = np.where(scores > 0, scores, -np.inf)
        limit = min(limit, self.size)
        if limit <= 0:
            return []
        best = np.argpartition(-scores, limit - 1)[:limit]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [ScoredChunk(int(self.chunk_ids[i]), float(scores[i])) for i in best if np.isfinite(scores[i])]

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.iterdir())


class EmbeddedIndex:
    """``SearchIndex`` over memory-mapped snapshot files."""

    def __init__(self, root: Path, source: ChunkSource, *, dimensions: int = 384, bigram_weight: float = 0.5) -> None:
        self.root = root
        self.source = source
        self.dimensions = dimensions
        self.bigram_weight = bigram_weight
        self._loaded: dict[int, tuple[int, Snapshot]] = {}
        self._lock = threading.Lock()

    def snapshot(self, kb_id: int) -> Snapshot:
        generation = self.source.generation(kb_id)
        cached = self._loaded.get(kb_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        with self._lock:
            directory = self.root / f"kb-{kb_id}" / f"g{generation}"
            if not (directory / "meta.json").exists():
                staging = directory.with_name(directory.name + f".building-{threading.get_ident()}")
                shutil.rmtree(staging, ignore_errors=True)
                Snapshot.write(staging, self.source.searchable_rows(kb_id), self.dimensions)
                if (directory / "meta.json").exists():  # another process won the race
                    shutil.rmtree(staging, ignore_errors=True)
                else:
                    staging.rename(directory)
                self._drop_older(kb_id, generation)
            snapshot = Snapshot(directory)
            self._loaded[kb_id] = (generation, snapshot)
            return snapshot

    def _drop_older(self, kb_id: int, generation: int) -> None:
        for old in (self.root / f"kb-{kb_id}").glob("g*"):
            name = old.name[1:].split(".")[0]
            if name.isdigit() and int(name) < generation:
                shutil.rmtree(old, ignore_errors=True)

    def lexical(self, kb_id: int, terms: Sequence[str], limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        snap = self.snapshot(kb_id)
        if snap.size == 0:
            return []
        scores = snap.words.scores([t for t in terms if not t.startswith("#")])
        if self.bigram_weight:
            scores += self.bigram_weight * snap.bigrams.scores([t for t in terms if t.startswith("#")])
        return snap.top(scores, limit, allowed, positive=True)

    def dense(self, kb_id: int, query: Vector, limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        snap = self.snapshot(kb_id)
        if snap.size == 0:
            return []
        scores = np.asarray(snap.vectors @ np.asarray(query, dtype=np.float32), dtype=np.float32)
        return snap.top(scores, limit, allowed, positive=False)

    def inverse_frequencies(self, kb_id: int, terms: Sequence[str]) -> dict[str, float]:
        snap = self.snapshot(kb_id)
        return {
            t: bm25_idf(snap.size, (snap.bigrams if t.startswith("#") else snap.words).document_frequency(t))
            for t in terms
        }

    def invalidate(self, kb_id: int) -> None:
        self._loaded.pop(kb_id, None)

    def remove(self, kb_id: int) -> None:
        self._loaded.pop(kb_id, None)
        shutil.rmtree(self.root / f"kb-{kb_id}", ignore_errors=True)
