"""Ingestion jobs: a crashed worker's job is taken over, nothing half-indexed is searchable,
a superseded worker cannot publish, and PostgreSQL workers skip rows another worker holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hiraga.knowledge.jobs import IngestWorker, reindex_knowledge_base
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
