"""Fair ingestion: jobs are taken in turns across teams, then knowledge bases, and a large document
gives its worker back between slices, so small documents of other knowledge bases submitted after
it are searchable before it is; its progress is on the job row as it goes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hiraga.knowledge import jobs, service
from hiraga.knowledge.jobs import IngestWorker
from hiraga.knowledge.parsers import PartedDocument, open_document
from hiraga.store.tables import KbChunk, KbDocument, KbIngestJob
from hiraga.store.tables.knowledge import DocumentStatus, JobState

from .conftest import World
from .pdf_support import text_pdf


def manual(sections: int, topic: str = "事務") -> bytes:
    """A markdown manual of ``sections`` headed sections about ``topic``: one chunk each."""
    return "\n\n".join(f"# 第{n}節\n\n第{n}節の{topic}は担当係が処理する。" for n in range(sections)).encode()


def team_b_kb(world: World, name: str) -> int:
    with world.database.session() as db:
        root = world.scope("system")
        return service.create_knowledge_base(db, root, name=name, team_id=world.team_b, classification=2).id


def add_as_system(world: World, kb_id: int, filename: str, data: bytes) -> int:
    with world.database.session() as db:
        kb = service.get_knowledge_base(db, world.scope("system"), kb_id)
        submitted = service.submit_document(db, world.scope("system"), kb, filename=filename, data=data)
        assert submitted.job_id is not None
        return submitted.job_id


def first_chunk_ids(world: World) -> dict[str, int]:
    """Per document, the id of its first chunk: chunk ids grow in the order documents were published."""
    with world.database.session() as db:
        rows = db.execute(select(KbDocument.name, func.min(KbChunk.id)).join(KbChunk).group_by(KbDocument.name)).all()
        return {name: first for name, first in rows}


def test_small_documents_of_other_knowledge_bases_finish_before_a_big_one_submitted_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def counting_open(data: bytes, filename: str) -> PartedDocument:
        opened.append(filename)
        return open_document(data, filename)

    monkeypatch.setattr(jobs, "open_document", counting_open)
    big_kb, other_kb, other_team_kb = world.team_kb("大きな規程集"), world.team_kb("手引"), team_b_kb(world, "税務")
    add_as_system(world, big_kb, "big.md", manual(40))
    add_as_system(world, other_kb, "small-1.md", manual(2, "窓口"))
    add_as_system(world, other_team_kb, "small-2.md", manual(2, "税"))
    add_as_system(world, other_kb, "small-3.md", manual(1, "small-3"))
    assert IngestWorker(world.runtime, slice_chunks=4).run_pending() == 4
    published = first_chunk_ids(world)
    assert set(published) == {"big.md", "small-1.md", "small-2.md", "small-3.md"}
    assert max(published[n] for n in ("small-1.md", "small-2.md", "small-3.md")) < published["big.md"]
    with world.database.session() as db:
        assert db.scalar(select(KbDocument.chunk_count).where(KbDocument.name == "big.md")) == 40
        ordinals = db.scalars(select(KbChunk.ordinal).join(KbDocument).where(KbDocument.name == "big.md"))
        assert sorted(ordinals) == list(range(40))
        assert {job.attempts for job in db.scalars(select(KbIngestJob))} == {1}  # giving back is no attempt
    assert opened.count("big.md") == 1  # the worker kept it open between its turns


def test_turns_go_to_the_team_then_the_knowledge_base_served_least_recently(world: World) -> None:
    a1, a2, b1 = world.team_kb("A1"), world.team_kb("A2"), team_b_kb(world, "B1")
    jobs = {
        add_as_system(world, a1, "a1-first.md", manual(1, "a1-first")): "a1-first",
        add_as_system(world, a1, "a1-second.md", manual(1, "a1-second")): "a1-second",
        add_as_system(world, a2, "a2.md", manual(1, "a2")): "a2",
        add_as_system(world, b1, "b1-first.md", manual(1, "b1-first")): "b1-first",
        add_as_system(world, b1, "b1-second.md", manual(1, "b1-second")): "b1-second",
    }
    worker = IngestWorker(world.runtime)
    order = []
    while (job_id := worker.claim()) is not None:
        order.append(jobs[job_id])
        assert worker.process(job_id)
    assert order == ["a1-first", "b1-first", "a2", "b1-second", "a1-second"]


def test_a_paged_documents_progress_is_stored_per_slice_and_only_grows(world: World) -> None:
    kb_id = world.team_kb()
    pages = [[f"# Section {p}-{s}" if s % 2 == 0 else f"Rule {p}-{s} applies." for s in range(6)] for p in range(5)]
    job_id = add_as_system(world, kb_id, "rules.pdf", text_pdf(*pages))
    seen: list[tuple[str, int, int, int, int]] = []

    def record(done: int, total: int) -> None:
        with world.database.session() as db:
            job = db.get(KbIngestJob, job_id)
            assert job is not None and done == job.chunks_done
            seen.append((job.state, job.chunks_done, job.chunks_total, job.pages_done, job.pages_total))

    assert IngestWorker(world.runtime, slice_chunks=2).run_pending(progress=record) == 1
    assert len(seen) == 8  # 15 chunks (3 per page) in slices of 2
    assert all(state == JobState.RUNNING and pages_total == 5 for state, _, _, _, pages_total in seen)
    chunks_done = [s[1] for s in seen]
    pages_done = [s[3] for s in seen]
    assert chunks_done == sorted(set(chunks_done)) and pages_done == sorted(pages_done) and pages_done[0] == 1
    assert all(s[2] == 0 for s in seen)  # the total of a paged document is not known before its end
    with world.database.session() as db:
        job = db.get(KbIngestJob, job_id)
        assert job is not None and job.state is JobState.DONE
        assert (job.chunks_done, job.chunks_total, job.pages_done, job.pages_total) == (15, 15, 5, 5)
        document = db.get(KbDocument, job.document_id)
        assert document is not None and document.status is DocumentStatus.READY and document.chunk_count == 15
