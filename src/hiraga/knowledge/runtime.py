"""What search and ingestion share at run time: the index (embedded files or PostgreSQL), the
embedding model and the fusion settings. One per process, built from the database and data dir.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import and_, select, text
from sqlalchemy.orm import Session

from hiraga.knowledge.index.base import ChunkFilter, SearchIndex, Vector
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow
from hiraga.knowledge.search import FusionConfig, HybridSearcher
from hiraga.knowledge.tokenise import indexed_terms
from hiraga.store.database import Database
from hiraga.store.tables import KbChunk, KbDocument, KnowledgeBase
from hiraga.store.tables.knowledge import DocumentStatus


class Embedder(Protocol):
    def embed_queries(self, texts: list[str]) -> list[list[float]]: ...

    def embed_passages(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: int
    document_id: int
    document_name: str
    document_title: str
    score: float
    text: str
    heading_path: tuple[str, ...]
    page: int | None
    article: str | None
    url: str | None


class DatabaseChunkSource:
    """Searchable chunks (of READY documents) straight from the database.

    A document's version is its ``content_hash``: ingestion replaces a document's chunks and sets
    the hash of the content it indexed in the same commit, and nothing else changes the hash of a
    READY document, so the version changes exactly when the document's searchable chunks do.
    (``hiraga kb reindex`` rewrites chunks without touching documents; it bumps the generation,
    which the embedded index sees as a change no version explains, and rebuilds.)
    """

    BATCH = 500

    def __init__(self, database: Database) -> None:
        self.database = database

    def generation(self, kb_id: int) -> int:
        with self.database.session() as db:
            return int(db.scalar(select(KnowledgeBase.generation).where(KnowledgeBase.id == kb_id)) or 0)

    def document_versions(self, kb_id: int) -> tuple[int, dict[int, str]]:
        """One statement, so the generation and the versions come from the same committed state."""
        ready = and_(KbDocument.kb_id == KnowledgeBase.id, KbDocument.status == DocumentStatus.READY)
        stmt = (
            select(KnowledgeBase.generation, KbDocument.id, KbDocument.content_hash)
            .select_from(KnowledgeBase)
            .outerjoin(KbDocument, ready)
            .where(KnowledgeBase.id == kb_id)
        )
        with self.database.session() as db:
            rows = db.execute(stmt).all()
        generation = int(rows[0][0] or 0) if rows else 0
        return generation, {int(d): str(h) for _, d, h in rows if d is not None}

    def searchable_rows(self, kb_id: int) -> Iterator[IndexRow]:
        return self._rows(kb_id, None)

    def document_rows(self, kb_id: int, document_ids: Collection[int]) -> Iterator[IndexRow]:
        ordered = sorted(document_ids)
        for start in range(0, len(ordered), self.BATCH):
            yield from self._rows(kb_id, ordered[start : start + self.BATCH])

    def _rows(self, kb_id: int, document_ids: list[int] | None) -> Iterator[IndexRow]:
        stmt = (
            select(KbChunk.id, KbChunk.document_id, KbChunk.terms, KbChunk.vector)
            .join(KbDocument, KbDocument.id == KbChunk.document_id)
            .where(KbChunk.kb_id == kb_id, KbDocument.status == DocumentStatus.READY)
            .order_by(KbChunk.id)
        )
        if document_ids is not None:
            stmt = stmt.where(KbChunk.document_id.in_(document_ids))
        with self.database.session() as db:
            for chunk_id, document_id, terms, vector in db.execute(stmt):
                yield IndexRow(chunk_id, document_id, indexed_terms(terms or ""), vector)


def has_pgvector(database: Database) -> bool:
    if database.engine.dialect.name != "postgresql":
        return False
    query = text(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'kb_chunks' AND column_name = 'embedding'"
        " AND table_schema = current_schema()"
    )
    with database.engine.connect() as connection:
        return connection.execute(query).scalar() is not None


class KnowledgeRuntime:
    def __init__(
        self,
        database: Database,
        data_dir: Path,
        *,
        embedder: Callable[[], Embedder | None] | None = None,
        fusion: FusionConfig | None = None,
    ) -> None:
        self.database = database
        self.pgvector = has_pgvector(database)
        self.index: SearchIndex
        if self.pgvector:
            from hiraga.knowledge.index.postgres import PostgresIndex

            self.index = PostgresIndex(database)
        else:
            self.index = EmbeddedIndex(data_dir / "knowledge", DatabaseChunkSource(database))
        self._embedder_factory = embedder or _default_embedder
        self._embedder: Embedder | None = None
        self._embedder_loaded = False
        self._lock = threading.Lock()
        self.searcher = HybridSearcher(
            self.index, self._encode_query, fusion or FusionConfig(), terms=self._chunk_terms
        )

    def _chunk_terms(self, chunk_ids: list[int]) -> dict[int, str]:
        with self.database.session() as db:
            rows = db.execute(select(KbChunk.id, KbChunk.terms).where(KbChunk.id.in_(chunk_ids))).all()
            return dict(rows)

    @property
    def embedder(self) -> Embedder | None:
        with self._lock:
            if not self._embedder_loaded:
                self._embedder = self._embedder_factory()
                self._embedder_loaded = True
            return self._embedder

    def embed_passages(self, texts: Sequence[str]) -> list[bytes | None]:
        embedder = self.embedder
        if embedder is None or not texts:
            return [None] * len(texts)
        return [np.asarray(v, dtype=np.float32).tobytes() for v in embedder.embed_passages(list(texts))]

    def _encode_query(self, text: str) -> Vector:
        embedder = self.embedder
        if embedder is None:
            raise RuntimeError("no embedder")
        return np.asarray(embedder.embed_queries([text])[0], dtype=np.float32)

    def search(
        self, db: Session, kb_id: int, query: str, top_k: int, allowed: ChunkFilter, expansions: Sequence[str] = ()
    ) -> list[SearchHit]:
        self.searcher.encode_query = self._encode_query if self.embedder is not None else None
        fused = self.searcher.search(kb_id, query, top_k, allowed, expansions)
        if not fused:
            return []
        rows = db.execute(
            select(KbChunk, KbDocument)
            .join(KbDocument, KbDocument.id == KbChunk.document_id)
            .where(KbChunk.id.in_([h.chunk_id for h in fused]), KbDocument.status == DocumentStatus.READY)
        ).all()
        found = {chunk.id: (chunk, document) for chunk, document in rows}
        hits = []
        for hit in fused:
            if hit.chunk_id in found:
                chunk, document = found[hit.chunk_id]
                hits.append(
                    SearchHit(
                        chunk.id,
                        document.id,
                        document.name,
                        document.title,
                        round(hit.score, 6),
                        chunk.text,
                        tuple(json.loads(chunk.heading_path or "[]")),
                        chunk.page,
                        chunk.article,
                        chunk.url,
                    )
                )
        return hits

    def forget(self, kb_id: int) -> None:
        """A knowledge base was deleted: drop its index files."""
        if isinstance(self.index, EmbeddedIndex):
            self.index.remove(kb_id)


def _default_embedder() -> Embedder | None:
    """The packaged e5 model; without it search falls back to lexical only."""
    try:
        from hiraga.providers.embedded.embeddings import EmbeddedEmbedder

        return EmbeddedEmbedder.shared()
    except Exception:  # the wheel missing or broken must not stop lexical search
        return None
