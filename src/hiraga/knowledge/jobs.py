"""Ingestion as background jobs over the ``kb_ingest_jobs`` table.

A job is claimed in fair order (``ingest_queue``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional UPDATE on SQLite) and prepared in slices of ``slice_chunks`` chunks: read (PDFs page by
page), chunked, tokenised and embedded, each slice committed to ``kb_staged_chunks`` with the job's
progress (``staging``). Between slices the job goes back to the queue when another knowledge base's
job waits. The last step is one transaction: the old chunks go, the staged ones come, the document
turns READY and the knowledge base's generation goes up; until then nothing of the new content is
searchable. While a worker holds a job, a side thread renews its heartbeat every third of
``stale_after``. A RUNNING job whose heartbeat is older than that was abandoned by a crashed worker
and is claimed again, resuming after its last committed slice; one abandoned ``max_attempts``
times (it may be what kills the worker) or failing unexpectedly that often is marked failed.
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

from sqlalchemy import ColumnElement, CursorResult, and_, or_, text, update
from sqlalchemy.orm import Session, defer

from hiraga.errors import HiragaError
from hiraga.knowledge.chunking import Chunk
from hiraga.knowledge.index.base import passage_text
from hiraga.knowledge.ingest_queue import next_job, others_waiting, take_turn
from hiraga.knowledge.parsers import open_document
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.knowledge.staging import JobStream, KeptStreams, Staged, discard, publish, resume_point, stage
from hiraga.knowledge.tokenise import sentence_terms
from hiraga.store.tables import KbDocument, KbIngestJob, KnowledgeBase
from hiraga.store.tables.base import utcnow
from hiraga.store.tables.knowledge import DocumentStatus, JobState

if TYPE_CHECKING:
    from hiraga.settings import Settings

log = logging.getLogger("hiraga.knowledge.jobs")
MAX_CHUNKS_PER_DOCUMENT = 20_000
EMBED_BATCH = 32
DEFAULT_SLICE_CHUNKS = 64  # chunks prepared per turn before a waiting knowledge base gets the worker
PUBLISH_BATCH = 1000
MIN_HEARTBEAT_SECONDS = 0.05
Progress = Callable[[int, int], None]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class LostClaim(Exception):
    """The job row no longer names this worker (taken over or cancelled): stop working on it."""


class IngestWorker:
    def __init__(
        self,
        runtime: KnowledgeRuntime,
        *,
        stale_after: timedelta = timedelta(minutes=5),
        max_attempts: int = 3,
        slice_chunks: int = DEFAULT_SLICE_CHUNKS,
    ) -> None:
        if stale_after < timedelta(0):
            raise ValueError("stale_after must not be negative")
        if slice_chunks < 1:
            raise ValueError("slice_chunks must be positive")
        self.slice_chunks = slice_chunks
        self._streams = KeptStreams()
        self.runtime = runtime
        self.database = runtime.database
        self.stale_after = stale_after
        self.heartbeat_every = stale_after / 3
        self.max_attempts = max_attempts
        self.name = worker_name()

    @classmethod
    def from_settings(cls, runtime: KnowledgeRuntime, settings: Settings) -> IngestWorker:
        return cls(
            runtime,
            stale_after=timedelta(seconds=settings.kb_job_stale_seconds),
            slice_chunks=settings.kb_ingest_slice_chunks,
        )

    # -- claiming ----------------------------------------------------------------------------------
    def _claimable(self) -> ColumnElement[bool]:
        stale = utcnow() - self.stale_after
        return or_(
            KbIngestJob.state == JobState.QUEUED,
            and_(KbIngestJob.state == JobState.RUNNING, KbIngestJob.heartbeat_at < stale),
        )

    def claim(self, kb_id: int | None = None) -> int | None:
        """Take the next claimable job in fair order (``ingest_queue``); None when there is none.
        An abandoned job that has used up its attempts is marked failed on the way instead of
        being claimed again."""
        while True:
            with self.database.session() as db:
                found = next_job(db, self._claimable(), kb_id)
                if found is None:
                    return None
                job_id, state, attempts, job_kb = found
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
                if claimed.rowcount != 1:
                    return None
            with self.database.session() as db:
                take_turn(db, job_kb)
            return job_id

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
        """Process jobs until none is left; returns how many were finished (done or failed)."""
        handled = 0
        while (job_id := self.claim(kb_id)) is not None:
            handled += self.process(job_id, progress, kb_id=kb_id)
        return handled

    def process(self, job_id: int, progress: Progress | None = None, *, kb_id: int | None = None) -> bool:
        """Work on a claimed job, one slice of ``slice_chunks`` chunks at a time, until it is done
        or, between slices, a job of another knowledge base is waiting (then the job goes back to
        the queue with its progress, and False is returned). ``kb_id``: this worker serves only
        that knowledge base, so it never gives a job back."""
        with self.database.session() as db:
            job = db.get(KbIngestJob, job_id)
            if job is None or job.payload is None:
                return True
            payload, attempts, job_kb = job.payload, job.attempts, job.kb_id
            document = db.get(KbDocument, job.document_id)
            filename = document.name if document else "?"
            point = resume_point(db, job_id)
        try:
            with Heartbeat(self, job_id) as beat:
                stream = self._streams.resume(job_id, point)
                stream = stream or JobStream.resume(open_document(payload, filename), point)
                while True:
                    if not self._next_slice(job_id, stream, beat, progress):
                        self._finish(job_id, stream, payload)
                        return True
                    if kb_id is None and self._should_yield(job_kb):
                        self._release(job_id, stream)
                        return False
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
        return True

    def _next_slice(self, job_id: int, stream: JobStream, beat: Heartbeat, progress: Progress | None) -> bool:
        """Prepare and stage the next slice; False when the document had no chunks left."""
        batch = stream.take(self.slice_chunks)
        if stream.next_ordinal > MAX_CHUNKS_PER_DOCUMENT:
            raise HiragaError(f"文書が大きすぎます（{MAX_CHUNKS_PER_DOCUMENT} 区画まで）。", code="document_too_large")
        if batch:
            prepared = self._prepare(batch, beat)
            values = {"chunks_done": stream.next_ordinal, "chunks_total": stream.chunks_total}
            if stream.document.paged:
                values |= {"pages_done": batch[-1][0] + 1, "pages_total": stream.document.part_count}
            with self.database.session() as db:
                if not self._renew(db, job_id, **values):
                    raise LostClaim  # rolls the slice back with the session
                stage(db, job_id, prepared)
            if progress is not None:
                progress(stream.next_ordinal, stream.chunks_total)
        return len(batch) == self.slice_chunks

    def _prepare(self, batch: list[tuple[int, Chunk]], beat: Heartbeat) -> list[Staged]:
        texts = [passage_text(c.heading_path, c.text) for _, c in batch]
        terms = [sentence_terms(x) for x in texts]
        vectors: list[bytes | None] = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors.extend(self.runtime.embed_passages(texts[start : start + EMBED_BATCH]))
            if beat.lost:
                raise LostClaim
        return [(part, chunk, t, v) for (part, chunk), t, v in zip(batch, terms, vectors, strict=True)]

    def _should_yield(self, kb_id: int) -> bool:
        with self.database.session() as db:
            return others_waiting(db, self._claimable(), kb_id)

    def _release(self, job_id: int, stream: JobStream) -> None:
        """Give the job back to the queue between slices, keeping its progress; the turn does
        not count as an attempt. The open stream is kept in case this worker gets it again."""
        with self.database.session() as db:
            released: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                update(KbIngestJob)
                .where(self._held(job_id))
                .values(state=JobState.QUEUED, worker=None, attempts=KbIngestJob.attempts - 1, updated_at=utcnow())
            )
        if released.rowcount == 1:
            self._streams.keep(job_id, stream)

    def heartbeat(self, job_id: int) -> bool:
        """Renew this worker's claim on the job; False when it holds it no longer."""
        with self.database.session() as db:
            return self._renew(db, job_id)

    def _held(self, job_id: int) -> ColumnElement[bool]:
        """The job is running under this worker's claim."""
        return and_(KbIngestJob.id == job_id, KbIngestJob.worker == self.name, KbIngestJob.state == JobState.RUNNING)

    def _renew(self, db: Session, job_id: int, **values: int) -> bool:
        renewed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
            update(KbIngestJob).where(self._held(job_id)).values(heartbeat_at=utcnow(), **values)
        )
        return renewed.rowcount == 1

    def _finish(self, job_id: int, stream: JobStream, payload: bytes) -> None:
        parsed = stream.document
        if stream.next_ordinal == 0 and parsed.when_empty is not None:
            raise parsed.when_empty
        with self.database.session() as db:
            # the first statement is the write that checks the claim: it takes the row lock
            # (PostgreSQL) or the write lock (SQLite), so no takeover can slip in after the check
            still_mine: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                update(KbIngestJob).where(self._held(job_id)).values(state=JobState.DONE, updated_at=utcnow())
            )
            job = db.get(KbIngestJob, job_id, options=[defer(KbIngestJob.payload)])  # have it already
            if still_mine.rowcount != 1 or job is None:
                return  # cancelled, superseded or taken over meanwhile
            document = db.get(KbDocument, job.document_id)
            kb = db.get(KnowledgeBase, job.kb_id)
            if document is None or kb is None:
                return
            chunk_ids = publish(db, job_id, document)
            if db.bind is not None and db.bind.dialect.name == "postgresql":
                for start in range(0, len(chunk_ids), PUBLISH_BATCH):
                    self.fill_postgres_columns(db, chunk_ids[start : start + PUBLISH_BATCH])
            document.content_hash, document.byte_size = hashlib.sha256(payload).hexdigest(), len(payload)
            document.title, document.status = parsed.title[:500], DocumentStatus.READY
            document.chunk_count = len(chunk_ids)
            document.metadata_json = json.dumps(parsed.metadata, ensure_ascii=False)
            document.url = document.url or parsed.url
            document.updated_at = utcnow()
            job.state, job.payload, job.updated_at = JobState.DONE, None, utcnow()
            job.chunks_done = job.chunks_total = len(chunk_ids)
            job.pages_done = job.pages_total = parsed.part_count if parsed.paged else 0
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
        discard(db, [job_id])
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
