"""The scale-out index: PostgreSQL with pgvector (HNSW, cosine) and full-text over Sudachi terms.

``kb_chunks.terms_tsv`` holds the chunk's Sudachi words and character bigrams as exact lexemes
(``array_to_tsvector``, no further parsing); ``kb_chunks.embedding`` holds the e5 vector. Only
chunks of READY documents are returned, so behaviour matches the embedded index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from hiraga.knowledge.index.base import ChunkFilter, ScoredChunk, Vector, bm25_idf
from hiraga.store.database import Database

_READY = "JOIN kb_documents d ON d.id = c.document_id AND d.status = 'ready'"


def tsquery_literal(terms: Sequence[str]) -> str:
    """An OR-query of exact lexemes in tsquery input syntax (quotes and backslashes escaped)."""
    unique = dict.fromkeys(t for t in terms if t)
    return " | ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in unique)


def vector_literal(vector: Vector) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"


def fill_embeddings(db: Session, chunk_ids: list[int]) -> None:
    """Copy the stored float32 vectors into the pgvector column."""
    rows = db.execute(
        text("SELECT id, vector FROM kb_chunks WHERE id = ANY(:ids) AND vector IS NOT NULL"), {"ids": chunk_ids}
    ).all()
    for chunk_id, data in rows:
        db.execute(
            text("UPDATE kb_chunks SET embedding = CAST(:v AS vector) WHERE id = :id"),
            {"v": vector_literal(np.frombuffer(data, dtype=np.float32)), "id": chunk_id},
        )


def _document_clause(allowed: ChunkFilter, params: dict[str, object]) -> str:
    if allowed.document_ids is None:
        return ""
    params["docs"] = sorted(allowed.document_ids)
    return " AND c.document_id = ANY(:docs)"


class PostgresIndex:
    def __init__(self, database: Database) -> None:
        self.database = database

    def lexical(self, kb_id: int, terms: Sequence[str], limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        query = tsquery_literal(terms)
        if not query:
            return []
        params: dict[str, object] = {"kb": kb_id, "q": query, "n": limit}
        sql = (
            "SELECT c.id, ts_rank(c.terms_tsv, CAST(:q AS tsquery)) AS score FROM kb_chunks c "
            f"{_READY} WHERE c.kb_id = :kb AND c.terms_tsv @@ CAST(:q AS tsquery)"
            f"{_document_clause(allowed, params)} ORDER BY score DESC, c.id LIMIT :n"
        )
        with self.database.session() as db:
            return [ScoredChunk(int(i), float(s)) for i, s in db.execute(text(sql), params)]

    def dense(self, kb_id: int, query: Vector, limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        params: dict[str, object] = {"kb": kb_id, "v": vector_literal(query), "n": limit}
        sql = (
            "SELECT c.id, 1 - (c.embedding <=> CAST(:v AS vector)) AS score FROM kb_chunks c "
            f"{_READY} WHERE c.kb_id = :kb AND c.embedding IS NOT NULL{_document_clause(allowed, params)} "
            "ORDER BY c.embedding <=> CAST(:v AS vector) LIMIT :n"
        )
        with self.database.session() as db:
            db.execute(text(f"SET LOCAL hnsw.ef_search = {max(40, min(int(limit) * 2, 1000))}"))
            return [ScoredChunk(int(i), float(s)) for i, s in db.execute(text(sql), params)]

    def inverse_frequencies(self, kb_id: int, terms: Sequence[str]) -> dict[str, float]:
        unique = sorted(set(terms))
        if not unique:
            return {}
        sql = (
            "SELECT t, (SELECT count(*) FROM kb_chunks c WHERE c.kb_id = :kb "
            "AND c.terms_tsv @@ CAST(quote_literal(t) AS tsquery)) FROM unnest(CAST(:terms AS text[])) AS t"
        )
        with self.database.session() as db:
            total = int(db.scalar(text("SELECT count(*) FROM kb_chunks WHERE kb_id = :kb"), {"kb": kb_id}) or 0)
            counts: dict[str, int] = {t: int(n) for t, n in db.execute(text(sql), {"kb": kb_id, "terms": unique})}
        return {t: bm25_idf(total, int(counts.get(t, 0))) for t in unique}

    def invalidate(self, kb_id: int) -> None:
        """Nothing cached: PostgreSQL always answers from the committed rows."""
