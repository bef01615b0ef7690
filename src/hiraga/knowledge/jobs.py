"""Ingestion as background jobs over the ``kb_ingest_jobs`` table.

A job is claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional UPDATE on SQLite),
parsed, chunked, tokenised and embedded, and then committed in one transaction: the old chunks go,
the new ones come, the document turns READY and the knowledge base's generation goes up. Until
that commit nothing of the new content is searchable, so a crash leaves either the old version or
nothing. While a worker holds a job, a side thread renews the job's heartbeat every third of
``stale_after`` (parsing, tokenising and embedding one batch may each take longer than that). A
RUNNING job whose heartbeat is older than ``stale_after`` was abandoned by a crashed worker and is
claimed again; one abandoned ``max_attempts`` times (it may be what kills the worker) or failing
unexpectedly that often is marked failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, CursorResult, and_, delete, or_, select, text, update
from sqlalchemy.orm import Session

from hiraga.errors import HiragaError
from hiraga.knowledge.chunking import Chunk, chunk_document
from hiraga.knowledge.index.base import passage_text
from hiraga.knowledge.parsers import parse_document
from hiraga.knowledge.parsers.base import ParsedDocument
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.knowledge.tokenise import sentence_terms
from hiraga.store.tables import KbChunk, KbDocument, KbIngestJob, KnowledgeBase
from hiraga.store.tables.base import utcnow
from hiraga.store.tables.knowledge import DocumentStatus, JobState

if TYPE_CHECKING:
    from hiraga.settings import Settings

log = logging.getLogger("hiraga.knowledge.jobs")
MAX_CHUNKS_PER_DOCUMENT = 20_000
EMBED_BATCH = 32
MIN_HEARTBEAT_SECONDS = 0.05
Progress = Callable[[int, int], None]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class LostClaim(Exception):
    """The job row no longer names this worker (taken over or cancelled): stop working on it."""


class IngestWorker:
    def __init__(
        self, runtime: KnowledgeRuntime, *, stale_after: timedelta = timedelta(minutes=5), max_attempts: int = 3
    ) -> None:
        if stale_after < timedelta(0):
            raise ValueError("stale_after must not be negative")
        self.runtime = runtime
        self.database = runtime.database
        self.stale_after = stale_after
        self.heartbeat_every = stale_after / 3
        self.max_attempts = max_attempts
        self.name = worker_name()

    @classmethod
    def from_settings(cls, runtime: KnowledgeRuntime, settings: Settings) -> IngestWorker:
        return cls(runtime, stale_after=timedelta(seconds=settings.kb_job_stale_seconds))

    # -- claiming ----------------------------------------------------------------------------------
    def _claimable(self) -> ColumnElement[bool]:
        stale = utcnow() - self.stale_after
        return or_(
            KbIngestJob.state == JobState.QUEUED,
            and_(KbIngestJob.state == JobState.RUNNING, KbIngestJob.heartbeat_at < stale),
        )

    def claim(self, kb_id: int | None = None) -> int | None:
        """Take the oldest claimable job; None when there is none. An abandoned job that has used
        up its attempts is marked failed on the way instead of being claimed again."""
        while True:
            with self.database.session() as db:
                stmt = select(KbIngestJob.id, KbIngestJob.state, KbIngestJob.attempts).where(self._claimable())
                stmt = stmt.order_by(KbIngestJob.id).limit(1)
                if kb_id is not None:
                    stmt = stmt.where(KbIngestJob.kb_id == kb_id)
                if db.bind is not None and db.bind.dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                found = db.execute(stmt).first()
                if found is None:
                    return None
                job_id, state, attempts = found
                if state is JobState.RUNNING and attempts >= self.max_attempts:
                    self._give_up(db, job_id, attempts)
                    continue
                claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                    update(KbIngestJob)
                    .where(KbIngestJob.id == job_id, self._claimable())
                    .values(
                        state=JobState.RUNNING,
                        worker=self.name,
                        heartbeat_at=utcnow(),
                        attempts=KbIngestJob.attempts + 1,
                        updated_at=utcnow(),
                    )
                )
                return job_id if claimed.rowcount == 1 else None

    def _give_up(self, db: Session, job_id: int, attempts: int) -> None:
        """Fail a job whose worker stopped responding ``attempts`` times (it may be what kills them)."""
        abandoned: CursorResult[Any] = db.execute(  # type: ignore[assignment]
            update(KbIngestJob)
            .where(KbIngestJob.id == job_id, self._claimable())
            .values(state=JobState.FAILED, updated_at=utcnow())
        )
        if abandoned.rowcount != 1:
            return  # another worker got there first
        log.warning("ingestion job %s abandoned %s times: giving up", job_id, attempts)
        message = (
            f"取り込みを {attempts} 回試みましたが、いずれも処理の途中でワーカーが停止したため中止しました。"
            "文書の内容を確認して、もう一度登録してください。"
        )
        self._record_failure(db, job_id, "ingest_abandoned", message)

    # -- processing --------------------------------------------------------------------------------
    def run_pending(self, kb_id: int | None = None, progress: Progress | None = None) -> int:
        """Process jobs until none is left; returns how many were handled."""
        handled = 0
        while (job_id := self.claim(kb_id)) is not None:
            self.process(job_id, progress)
            handled += 1
        return handled

    def process(self, job_id: int, progress: Progress | None = None) -> None:
        with self.database.session() as db:
            job = db.get(KbIngestJob, job_id)
            if job is None or job.payload is None:
                return
            payload, attempts = job.payload, job.attempts
            document = db.get(KbDocument, job.document_id)
            filename = document.name if document else "?"
        try:
            with Heartbeat(self, job_id) as beat:
                parsed = parse_document(payload, filename)
                chunks = chunk_document(parsed)
                if len(chunks) > MAX_CHUNKS_PER_DOCUMENT:
                    raise HiragaError(
                        f"文書が大きすぎます（{MAX_CHUNKS_PER_DOCUMENT} 区画まで）。", code="document_too_large"
                    )
                prepared = self._prepare(job_id, parsed, chunks, progress, beat)
                self._finish(job_id, parsed, prepared)
        except LostClaim:
            log.warning("ingestion job %s was taken over by another worker", job_id)
        except HiragaError as exc:
            self._fail(job_id, exc.code, exc.message)
        except Exception:
            log.exception("ingestion job %s failed", job_id)
            if attempts >= self.max_attempts:
                self._fail(job_id, "ingest_failed", "取り込み中に予期しないエラーが発生しました。")
            else:
                self._requeue(job_id)

    def _prepare(
        self, job_id: int, parsed: ParsedDocument, chunks: list[Chunk], progress: Progress | None, beat: Heartbeat
    ) -> list[tuple[Chunk, str, bytes | None]]:
        texts = [passage_text(c.heading_path, c.text) for c in chunks]
        terms = [sentence_terms(x) for x in texts]
        vectors: list[bytes | None] = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors.extend(self.runtime.embed_passages(texts[start : start + EMBED_BATCH]))
            if beat.lost or not self.heartbeat(job_id, chunks_done=len(vectors), chunks_total=len(texts)):
                raise LostClaim
            if progress is not None:
                progress(len(vectors), len(texts))
        return list(zip(chunks, terms, vectors, strict=True))

    def heartbeat(self, job_id: int, **progress: int) -> bool:
        """Renew this worker's claim on the job (and record progress); False when it holds it no longer."""
        with self.database.session() as db:
            beat: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                update(KbIngestJob)
                .where(KbIngestJob.id == job_id, KbIngestJob.worker == self.name, KbIngestJob.state == JobState.RUNNING)
                .values(heartbeat_at=utcnow(), **progress)
            )
            return beat.rowcount == 1

    def _finish(self, job_id: int, parsed: ParsedDocument, prepared: list[tuple[Chunk, str, bytes | None]]) -> None:
        with self.database.session() as db:
            # the first statement is the write that checks the claim: it takes the row lock
            # (PostgreSQL) or the write lock (SQLite), so no takeover can slip in after the check
            still_mine: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                update(KbIngestJob)
                .where(KbIngestJob.id == job_id, KbIngestJob.worker == self.name, KbIngestJob.state == JobState.RUNNING)
                .values(state=JobState.DONE, updated_at=utcnow())
            )
            job = db.get(KbIngestJob, job_id)
            if still_mine.rowcount != 1 or job is None:
                return  # cancelled, superseded or taken over meanwhile
            document = db.get(KbDocument, job.document_id)
            kb = db.get(KnowledgeBase, job.kb_id)
            if document is None or kb is None:
                return
            db.execute(delete(KbChunk).where(KbChunk.document_id == document.id))
            rows = [
                KbChunk(
                    kb_id=kb.id,
                    document_id=document.id,
                    ordinal=c.ordinal,
                    text=c.text,
                    terms=terms,
                    heading_path=json.dumps(list(c.heading_path), ensure_ascii=False),
                    page=c.page,
                    article=c.article,
                    url=c.url or document.url,
                    vector=vector,
                )
                for c, terms, vector in prepared
            ]
            db.add_all(rows)
            db.flush()
            if db.bind is not None and db.bind.dialect.name == "postgresql":
                self.fill_postgres_columns(db, [r.id for r in rows])
            document.content_hash = hashlib.sha256(job.payload or b"").hexdigest()
            document.byte_size = len(job.payload or b"")
            document.title, document.status, document.chunk_count = parsed.title[:500], DocumentStatus.READY, len(rows)
            document.metadata_json = json.dumps(parsed.metadata, ensure_ascii=False)
            document.url = document.url or parsed.url
            document.updated_at = utcnow()
            job.state, job.payload, job.updated_at = JobState.DONE, None, utcnow()
            job.chunks_done = job.chunks_total = len(rows)
            kb.generation += 1

    def fill_postgres_columns(self, db: Session, chunk_ids: list[int]) -> None:
        if not chunk_ids:
            return
        db.execute(
            text(
                "UPDATE kb_chunks SET terms_tsv = array_to_tsvector(string_to_array(terms, ' ')) WHERE id = ANY(:ids)"
            ),
            {"ids": chunk_ids},
        )
        if self.runtime.pgvector:
            from hiraga.knowledge.index.postgres import fill_embeddings

            fill_embeddings(db, chunk_ids)

    def _fail(self, job_id: int, code: str, message: str) -> None:
        with self.database.session() as db:
            self._record_failure(db, job_id, code, message)

    def _record_failure(self, db: Session, job_id: int, code: str, message: str) -> None:
        job = db.get(KbIngestJob, job_id)
        if job is None:
            return
        job.state, job.error_message, job.payload, job.updated_at = JobState.FAILED, message[:1000], None, utcnow()
        document = db.get(KbDocument, job.document_id)
        if document is not None and document.status is not DocumentStatus.READY:
            document.status, document.error_code, document.error_message = DocumentStatus.FAILED, code, message[:1000]
        elif document is not None:  # a failed re-ingest keeps the old, still searchable version
            document.error_code, document.error_message = code, message[:1000]

    def _requeue(self, job_id: int) -> None:
        with self.database.session() as db:
            db.execute(
                update(KbIngestJob)
                .where(KbIngestJob.id == job_id, KbIngestJob.worker == self.name)
                .values(state=JobState.QUEUED, worker=None, updated_at=utcnow())
            )


class Heartbeat:
    """Renews a claimed job's heartbeat from a side thread every ``worker.heartbeat_every`` while the
    job is worked on, so a live worker is never mistaken for a crashed one. ``lost`` turns true once
    the job row names another worker (or is no longer running)."""

    def __init__(self, worker: IngestWorker, job_id: int) -> None:
        self.worker = worker
        self.job_id = job_id
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"hiraga-heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = max(self.worker.heartbeat_every.total_seconds(), MIN_HEARTBEAT_SECONDS)
        while not self._stop.wait(interval):
            try:
                if not self.worker.heartbeat(self.job_id):
                    self.lost = True
                    return
            except Exception:  # e.g. the database briefly unreachable: the next beat tries again
                log.warning("heartbeat of ingestion job %s failed", self.job_id, exc_info=True)


class BackgroundIngestor:
    """The in-process worker of embedded mode: a daemon thread that polls the job table."""

    def __init__(self, worker: IngestWorker, poll_seconds: float = 1.0) -> None:
        self.worker = worker
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="hiraga-ingest", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.worker.run_pending()
            except Exception:
                log.exception("ingestion worker loop failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


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
