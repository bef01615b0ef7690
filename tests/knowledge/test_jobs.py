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
from sqlalchemy import select

from hiraga.knowledge.jobs import IngestWorker, reindex_knowledge_base
from hiraga.knowledge.runtime import KnowledgeRuntime
from hiraga.settings import Settings
from hiraga.store.tables import KbChunk, KbDocument, KbIngestJob, KnowledgeBase
from hiraga.store.tables.knowledge import DocumentStatus, JobState

from .conftest import World

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


def test_reindex_rebuilds_terms_and_publishes_a_new_generation(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    world.ingest()
    with world.database.session() as db:
        before = db.get(KnowledgeBase, kb_id)
        assert before is not None
        generation = before.generation
        for chunk in db.scalars(select(KbChunk)):
            chunk.terms = ""  # as if indexed by a broken tokeniser
        before.generation += 1
    assert world.search(kb_id, "住民票") == []
    assert reindex_knowledge_base(world.runtime, kb_id) == 1
    with world.database.session() as db:
        after = db.get(KnowledgeBase, kb_id)
        assert after is not None and after.generation == generation + 2
    assert world.search(kb_id, "住民票")[0].document_name == "guide.md"


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
