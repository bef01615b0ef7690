"""Staged chunks of an unfinished job: where a resumed job starts (page of the last staged chunk and
how many of that page's chunks are done), and which open streams a worker keeps between turns."""

from __future__ import annotations

from hiraga.knowledge import staging
from hiraga.knowledge.chunking import ChunkStream
from hiraga.knowledge.parsers import open_document
from hiraga.knowledge.staging import JobStream, KeptStreams, ResumePoint
from hiraga.store.tables import KbIngestJob

from .conftest import World
from .pdf_support import text_pdf

PAGES = [[f"# Topic {p}-{s}" if s % 2 == 0 else f"Rule {p}-{s} holds." for s in range(6)] for p in range(3)]


def test_the_resume_point_is_after_the_last_staged_chunk(world: World) -> None:
    kb_id = world.team_kb()
    job_id = world.add(kb_id, "rules.pdf", text_pdf(*PAGES)).job_id
    assert job_id is not None
    document = open_document(text_pdf(*PAGES), "rules.pdf")
    chunks = list(ChunkStream(document))  # three a page
    with world.database.session() as db:
        assert staging.resume_point(db, job_id) == ResumePoint()
        staging.stage(db, job_id, [(part, chunk, "", None) for part, chunk in chunks[:5]])
    with world.database.session() as db:
        point = staging.resume_point(db, job_id)
        assert point == ResumePoint(part=1, skip=2, ordinal=5)
    resumed = JobStream.resume(open_document(text_pdf(*PAGES), "rules.pdf"), point)
    assert resumed.take(100) == chunks[5:] and resumed.next_ordinal == len(chunks)
    with world.database.session() as db:
        staging.discard(db, [job_id])
        assert staging.resume_point(db, job_id) == ResumePoint()
        assert db.get(KbIngestJob, job_id) is not None  # only the staged chunks go


def test_a_kept_stream_is_used_only_where_the_staged_chunks_end() -> None:
    document = open_document(text_pdf(*PAGES), "rules.pdf")
    kept = KeptStreams(limit=2)
    first, second, third = (JobStream.resume(document, ResumePoint()) for _ in range(3))
    first.take(4)
    kept.keep(1, first)
    assert kept.resume(1, ResumePoint(1, 1, 4)) is first
    assert kept.resume(1, ResumePoint(1, 1, 4)) is None  # handed out once
    kept.keep(1, first)
    assert kept.resume(1, ResumePoint(1, 2, 5)) is None  # another worker went on meanwhile
    kept.keep(1, first)
    kept.keep(2, second)
    kept.keep(3, third)  # the oldest is dropped
    assert kept.resume(1, ResumePoint(1, 1, 4)) is None and kept.resume(3, ResumePoint()) is third
