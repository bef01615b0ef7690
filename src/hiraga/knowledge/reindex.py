"""``hiraga kb reindex``: recompute stored chunks' terms and vectors in place (after a tokeniser or
model change), batch by batch, and publish a new index generation."""

from __future__ import annotations

import json

from sqlalchemy import select

from hiraga.knowledge.index.base import passage_text
from hiraga.knowledge.jobs import EMBED_BATCH, IngestWorker, Progress
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.knowledge.tokenise import sentence_terms
from hiraga.store.tables import KbChunk, KnowledgeBase


def reindex_knowledge_base(runtime: KnowledgeRuntime, kb_id: int, progress: Progress | None = None) -> int:
    """Recompute every chunk's terms and vector from its stored text (after a tokeniser or model
    change) and publish a new index generation. Returns the number of chunks."""
    database = runtime.database
    with database.session() as db:
        chunk_ids = list(db.scalars(select(KbChunk.id).where(KbChunk.kb_id == kb_id).order_by(KbChunk.id)))
    for start in range(0, len(chunk_ids), EMBED_BATCH):
        part = chunk_ids[start : start + EMBED_BATCH]
        with database.session() as db:
            chunks = list(db.scalars(select(KbChunk).where(KbChunk.id.in_(part)).order_by(KbChunk.id)))
            texts = [passage_text(json.loads(c.heading_path or "[]"), c.text) for c in chunks]
            for chunk, passage, vector in zip(chunks, texts, runtime.embed_passages(texts), strict=True):
                chunk.terms = sentence_terms(passage)
                chunk.vector = vector
            db.flush()
            if db.bind is not None and db.bind.dialect.name == "postgresql":
                IngestWorker(runtime).fill_postgres_columns(db, part)
        if progress is not None:
            progress(min(start + EMBED_BATCH, len(chunk_ids)), len(chunk_ids))
    with database.session() as db:
        kb = db.get(KnowledgeBase, kb_id)
        if kb is not None:
            kb.generation += 1
    return len(chunk_ids)
