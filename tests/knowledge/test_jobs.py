"""Ingestion jobs: a crashed worker's job is taken over, nothing half-indexed is searchable,
a superseded worker cannot publish, PostgreSQL workers skip rows another worker holds, a job that
keeps killing its workers is failed, and a live worker's heartbeat stays fresh during a long batch.
(Real ``hiraga worker`` processes killed mid-job: tests/cli/test_worker_crash.py.)"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from hiraga.knowledge.chunking import chunk_document
from hiraga.knowledge.jobs import IngestWorker
from hiraga.knowledge.parsers import parse_document
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.settings import Settings
from hiraga.store.tables import KbChunk, KbDocument, KbIngestJob, KbStagedChunk
from hiraga.store.tables.knowledge import DocumentStatus, JobState

from .conftest import World
from .pdf_support import text_pdf

GUIDE = "# 窓口案内\n\n住民票の写しは市民課の窓口で交付します。\n".encode()


def job_row(world: World) -> KbIngestJob:
    with world.database.session() as db:
        job = db.scalar(select(KbIngestJob).order_by(KbIngestJob.id.desc()))
        assert job is not None
        return job


def test_a_crashed_workers_job_is_resumed_by_another_worker(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    crashed = IngestWorker(world.runtime)
    assert crashed.claim() is not None  # ... and the process dies here
    assert job_row(world).state is JobState.RUNNING
    assert world.search(kb_id, "住民票") == []
    assert IngestWorker(world.runtime).claim() is None  # heartbeat still fresh: not taken over yet
    rescuer = IngestWorker(world.runtime, stale_after=timedelta(0))
    assert rescuer.run_pending() == 1
    job = job_row(world)
    assert job.state is JobState.DONE and job.attempts == 2 and job.payload is None
    assert world.search(kb_id, "住民票")[0].document_name == "guide.md"


def test_a_superseded_worker_cannot_publish_its_result(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    slow = IngestWorker(world.runtime)
    job_id = slow.claim()
    assert job_id is not None
    slow.name = "slow-worker"  # what the job row says is another worker now holds it
    slow.process(job_id)
    with world.database.session() as db:
        assert db.scalar(select(KbChunk.id)) is None
        assert db.scalar(select(KbDocument.status)) is DocumentStatus.PENDING


def test_postgres_workers_skip_a_job_another_worker_holds(world: World) -> None:
    if world.database.engine.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is the PostgreSQL claim path")
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    with world.database.session() as holder:
        holder.scalar(select(KbIngestJob.id).with_for_update())  # another worker's open claim transaction
        assert IngestWorker(world.runtime).claim() is None
    assert IngestWorker(world.runtime).claim() is not None


def test_a_job_abandoned_max_attempts_times_is_failed_not_retried(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    impatient = IngestWorker(world.runtime, stale_after=timedelta(0), max_attempts=3)
    for _ in range(3):
        assert impatient.claim() is not None  # ... and each time the worker dies mid-job
    assert impatient.claim() is None
    job = job_row(world)
    assert job.state is JobState.FAILED and job.attempts == 3 and job.payload is None
    assert job.error_message is not None and "3 回" in job.error_message
    with world.database.session() as db:
        document = db.scalar(select(KbDocument))
        assert document is not None and document.status is DocumentStatus.FAILED
        assert document.error_code == "ingest_abandoned"
    assert world.search(kb_id, "住民票") == []


class BlockingEmbedder:
    """Embeds only once released: a long embedding batch the test can hold open."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        self.started.set()
        assert self.release.wait(60), "the test never released the embedder"
        return [[1.0, 0.0] for _ in texts]


def test_a_live_worker_keeps_its_heartbeat_fresh_during_a_long_batch(world: World, tmp_path: Path) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    embedder = BlockingEmbedder()
    runtime = KnowledgeRuntime(world.database, tmp_path / "slow", embedder=lambda: embedder)
    stale_after = timedelta(seconds=0.6)
    busy = IngestWorker(runtime, stale_after=stale_after)
    job_id = busy.claim()
    assert job_id is not None
    thread = threading.Thread(target=busy.process, args=(job_id,))
    thread.start()
    try:
        assert embedder.started.wait(30)
        beats = {job_row(world).heartbeat_at}
        deadline = time.monotonic() + 30
        while len(beats) < 4 and time.monotonic() < deadline:  # beats keep coming while the batch runs
            time.sleep(0.05)
            beats.add(job_row(world).heartbeat_at)
        assert len(beats) >= 4, "no heartbeat while the embedding batch ran"
        assert IngestWorker(world.runtime, stale_after=stale_after * 2).claim() is None  # not taken for dead
    finally:
        embedder.release.set()
        thread.join(30)
    job = job_row(world)
    assert job.state is JobState.DONE and job.attempts == 1 and job.worker == busy.name


def test_the_stale_threshold_comes_from_settings(world: World, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kb_job_stale_seconds=6)
    worker = IngestWorker.from_settings(world.runtime, settings)
    assert worker.stale_after == timedelta(seconds=6) and worker.heartbeat_every == timedelta(seconds=2)
    assert IngestWorker.from_settings(world.runtime, Settings(data_dir=tmp_path)).stale_after == timedelta(minutes=5)
    with pytest.raises(ValidationError, match="kb_job_stale_seconds"):
        Settings(data_dir=tmp_path, kb_job_stale_seconds=0)


class Killed(BaseException):
    """The worker process dying: nothing in the worker catches it, nothing is cleaned up."""


class CountingEmbedder:
    """Counts the passages it embeds; dies on call ``die_on`` (1-based), if given."""

    def __init__(self, die_on: int | None = None) -> None:
        self.calls = 0
        self.passages = 0
        self.die_on = die_on

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.die_on:
            raise Killed
        self.passages += len(texts)
        return [[1.0, 0.0] for _ in texts]


def test_a_worker_killed_mid_document_is_resumed_after_its_last_slice_without_loss_or_duplicates(
    world: World, tmp_path: Path
) -> None:
    kb_id = world.team_kb()
    pages = [[f"# Topic {p}-{s}" if s % 2 == 0 else f"Rule {p}-{s} holds." for s in range(6)] for p in range(4)]
    data = text_pdf(*pages)
    expected = [c.text for c in chunk_document(parse_document(data, "rules.pdf"))]
    assert len(expected) == 12  # three a page: slices of 5 end mid-page
    world.add(kb_id, "rules.pdf", data)
    dying = CountingEmbedder(die_on=3)  # two slices committed, killed in the third
    with pytest.raises(Killed):
        IngestWorker(
            KnowledgeRuntime(world.database, tmp_path / "a", embedder=lambda: dying), slice_chunks=5
        ).run_pending()
    job = job_row(world)
    assert job.state is JobState.RUNNING and job.chunks_done == 10 and job.pages_done == 4
    with world.database.session() as db:
        assert db.scalar(select(func.count(KbStagedChunk.id))) == 10 and db.scalar(select(KbChunk.id)) is None
    rescuer_embedder = CountingEmbedder()
    rescuer = IngestWorker(
        KnowledgeRuntime(world.database, tmp_path / "b", embedder=lambda: rescuer_embedder),
        stale_after=timedelta(0),
        slice_chunks=5,
    )
    assert rescuer.run_pending() == 1
    assert rescuer_embedder.passages == 2  # only what the dead worker had not committed
    job = job_row(world)
    assert job.state is JobState.DONE and job.attempts == 2 and job.chunks_done == job.chunks_total == 12
    with world.database.session() as db:
        chunks = list(db.scalars(select(KbChunk).order_by(KbChunk.ordinal)))
        assert [c.ordinal for c in chunks] == list(range(12)) and [c.text for c in chunks] == expected
        assert db.scalar(select(func.count(KbStagedChunk.id))) == 0


def test_a_new_version_cancels_the_running_job_and_drops_what_it_staged(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", "\n\n".join(f"# 第{n}節\n\n窓口{n}で受け付けます。" for n in range(6)).encode())
    worker = IngestWorker(world.runtime, slice_chunks=2)
    job_id = worker.claim()
    assert job_id is not None
    replaced = threading.Event()

    def replace_after_first_slice(done: int, total: int) -> None:
        if not replaced.is_set():
            replaced.set()
            world.add(kb_id, "guide.md", GUIDE)

    worker.process(job_id, replace_after_first_slice)
    with world.database.session() as db:
        assert db.scalar(select(func.count(KbStagedChunk.id))) == 0
        assert db.scalar(select(KbIngestJob.state).where(KbIngestJob.id == job_id)) is JobState.FAILED
    assert world.ingest() == 1
    assert world.search(kb_id, "住民票")[0].document_name == "guide.md"


def test_the_slice_size_comes_from_settings(world: World, tmp_path: Path) -> None:
    assert IngestWorker.from_settings(world.runtime, Settings(data_dir=tmp_path)).slice_chunks == 64
    settings = Settings(data_dir=tmp_path, kb_ingest_slice_chunks=8)
    assert IngestWorker.from_settings(world.runtime, settings).slice_chunks == 8
    with pytest.raises(ValidationError, match="kb_ingest_slice_chunks"):
        Settings(data_dir=tmp_path, kb_ingest_slice_chunks=0)
