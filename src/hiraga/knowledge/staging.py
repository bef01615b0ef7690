"""An ingestion job's chunks before it publishes them (``kb_staged_chunks``).

A worker prepares a document in slices; each slice's chunks (text, terms, vector) are committed
here in the same transaction as the job's progress, so a worker that dies loses at most the slice
it was working on, and the next one resumes after the last committed chunk: the unique
``(job_id, ordinal)`` makes a chunk staged twice impossible. Staged chunks are not searchable; the
job's last transaction moves them into ``kb_chunks`` (replacing the document's old chunks).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import String, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from hiraga.knowledge.chunking import Chunk, ChunkStream
from hiraga.knowledge.parsers import PartedDocument
from hiraga.store.tables import KbChunk, KbDocument, KbStagedChunk

Staged = tuple[int, Chunk, str, bytes | None]  # part, chunk, terms, vector


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a job's next slice starts: ``part`` to read from, ``skip`` chunks of it already
    staged, ``ordinal`` of the next chunk (= chunks staged)."""

    part: int = 0
    skip: int = 0
    ordinal: int = 0


def resume_point(db: Session, job_id: int) -> ResumePoint:
    of_job = KbStagedChunk.job_id == job_id
    staged = db.scalar(select(func.count(KbStagedChunk.id)).where(of_job)) or 0
    if not staged:
        return ResumePoint()
    last_part = db.scalar(select(KbStagedChunk.part).where(of_job).order_by(KbStagedChunk.ordinal.desc()).limit(1))
    in_part = db.scalar(select(func.count(KbStagedChunk.id)).where(of_job, KbStagedChunk.part == last_part)) or 0
    return ResumePoint(int(last_part or 0), in_part, staged)


@dataclass(slots=True)
class JobStream:
    """A job's remaining chunks: the document, its chunk stream and the next ordinal."""

    document: PartedDocument
    stream: ChunkStream
    chunks: Iterator[tuple[int, Chunk]]
    next_ordinal: int

    @classmethod
    def resume(cls, document: PartedDocument, point: ResumePoint) -> JobStream:
        stream = ChunkStream(document, point.part, point.ordinal - point.skip)
        return cls(document, stream, itertools.islice(stream, point.skip, None), point.ordinal)

    def take(self, count: int) -> list[tuple[int, Chunk]]:
        taken = list(itertools.islice(self.chunks, count))
        self.next_ordinal += len(taken)
        return taken

    @property
    def chunks_total(self) -> int:
        """All of the document's chunks once known: after its only part (formats read whole)."""
        return 0 if self.document.paged else self.stream.chunked


def stage(db: Session, job_id: int, staged: Sequence[Staged]) -> None:
    db.add_all(
        KbStagedChunk(
            job_id=job_id,
            part=part,
            ordinal=chunk.ordinal,
            text=chunk.text,
            terms=terms,
            heading_path=json.dumps(list(chunk.heading_path), ensure_ascii=False),
            page=chunk.page,
            article=chunk.article,
            url=chunk.url,
            vector=vector,
        )
        for part, chunk, terms, vector in staged
    )


def publish(db: Session, job_id: int, document: KbDocument) -> list[int]:
    """Replace the document's chunks with the job's staged ones (in ordinal order, inside the
    caller's transaction); returns the new chunk ids."""
    db.execute(delete(KbChunk).where(KbChunk.document_id == document.id))
    s = KbStagedChunk
    source = (
        select(
            literal(document.kb_id),
            literal(document.id),
            s.ordinal,
            s.text,
            s.terms,
            s.heading_path,
            s.page,
            s.article,
            func.coalesce(s.url, literal(document.url, String)),
            s.vector,
        )
        .where(s.job_id == job_id)
        .order_by(s.ordinal)
    )
    columns = ["kb_id", "document_id", "ordinal", "text", "terms", "heading_path", "page", "article", "url", "vector"]
    db.execute(insert(KbChunk).from_select(columns, source))
    discard(db, [job_id])
    return list(db.scalars(select(KbChunk.id).where(KbChunk.document_id == document.id).order_by(KbChunk.id)))


def discard(db: Session, job_ids: Sequence[int]) -> None:
    """Drop what failed, cancelled or published jobs staged."""
    if job_ids:
        db.execute(delete(KbStagedChunk).where(KbStagedChunk.job_id.in_(job_ids)))


class KeptStreams:
    """The open streams of jobs this worker gave back between slices (at most ``limit``, the
    oldest dropped first), so getting one again does not mean parsing the document again. A kept
    stream is used only if the job's staged chunks end where it stopped."""

    def __init__(self, limit: int = 2) -> None:
        self.limit = limit
        self._kept: dict[int, JobStream] = {}

    def keep(self, job_id: int, stream: JobStream) -> None:
        self._kept[job_id] = stream
        while len(self._kept) > self.limit:
            del self._kept[next(iter(self._kept))]

    def resume(self, job_id: int, point: ResumePoint) -> JobStream | None:
        kept = self._kept.pop(job_id, None)
        return kept if kept is not None and kept.next_ordinal == point.ordinal else None
