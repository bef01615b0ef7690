"""The seam between search and where the index lives.

Both implementations answer the same two questions for one knowledge base — the best chunks by
lexical score and the best chunks by dense similarity — and search fuses the two lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    chunk_id: int
    score: float


@dataclass(frozen=True, slots=True)
class ChunkFilter:
    """Which documents may answer; ``None`` means every searchable document of the knowledge base.
    (Metadata and tag filters are resolved to document ids by the service.)"""

    document_ids: frozenset[int] | None = None

    def admits(self, document_id: int) -> bool:
        return self.document_ids is None or document_id in self.document_ids


class SearchIndex(Protocol):
    """Lexical and dense candidates for one knowledge base, restricted to searchable documents."""

    def lexical(self, kb_id: int, terms: Sequence[str], limit: int, allowed: ChunkFilter) -> list[ScoredChunk]: ...

    def dense(self, kb_id: int, query: Vector, limit: int, allowed: ChunkFilter) -> list[ScoredChunk]: ...

    def inverse_frequencies(self, kb_id: int, terms: Sequence[str]) -> dict[str, float]:
        """BM25 idf of each term over the knowledge base's chunks (0 for unknown terms' absence is fine)."""
        ...

    def invalidate(self, kb_id: int) -> None:
        """The knowledge base's searchable chunks changed."""
        ...


def bm25_idf(chunks: int, containing: int) -> float:
    return math.log1p((chunks - containing + 0.5) / (containing + 0.5))


def passage_text(heading_path: Sequence[str], text: str) -> str:
    """What is indexed and embedded for a chunk: its heading path, then its text."""
    return " / ".join(heading_path) + "\n" + text if heading_path else text


def vector_to_bytes(vector: Sequence[float] | Vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_from_bytes(data: bytes) -> Vector:
    return np.frombuffer(data, dtype=np.float32)
