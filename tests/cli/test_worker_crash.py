"""``hiraga worker`` killed with SIGKILL in the middle of an ingestion job, on SQLite and PostgreSQL.

Nothing of the half-done document is searchable after the crash; a worker started later with a
short ``HIRAGA_KB_JOB_STALE_SECONDS`` takes the abandoned job over and publishes it; a job that kills
its worker every time is failed after the last attempt with a Japanese reason.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from hiraga.cli.common import CLI_OPERATOR
from hiraga.cli.main import cli
from hiraga.knowledge import service
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import KbChunk, KbDocument, KbIngestJob
from hiraga.store.tables.knowledge import DocumentStatus, JobState

from .conftest import CliTarget
from .processes import HIRAGA

pytestmark = pytest.mark.slow
STALE_SECONDS = 2
SECTIONS = 128  # four embedding batches of short passages: seconds of work for a real worker
PHRASE = "河川敷で花火を打ち上げるときは、消防本部の許可を受けなければならない。"
QUERY = "河川敷の花火の許可"


def manual() -> bytes:
    """A generated manual: many short sections and one that a search must find."""
    lines = ["# 庁内事務手引"]
    for n in range(1, SECTIONS + 1):
        lines += [f"## 第{n}節", f"第{n}節の事務は、担当係が受付番号{n:04d}の順に処理する。"]
    lines += ["## 屋外行事", PHRASE]
    return "\n\n".join(lines).encode()


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no rollback, no last heartbeat — a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self, timeout: float = 300) -> str:
        assert self.process.wait(timeout=timeout) == 0, self.output()
        return self.output()


def start_worker(target: CliTarget, log: Path, stale_seconds: int | None = None) -> Worker:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIRAGA_")}
    env |= {k: v for k, v in target.env.items() if v is not None} | {"PYTHONUNBUFFERED": "1"}
    if stale_seconds is not None:
        env["HIRAGA_KB_JOB_STALE_SECONDS"] = str(stale_seconds)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [HIRAGA, "worker", "--once", "--data-dir", str(target.data_dir)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return Worker(process, log)


def run(target: CliTarget, *words: str) -> Result:
    result = CliRunner().invoke(cli, target.args(*words), env=target.env)
    assert result.exit_code == 0, result.output
    return result


def queue_manual(target: CliTarget, database: Database) -> None:
    run(target, "admin", "create-org", "A市")
    run(target, "admin", "create-team", "総務課", "--org", "A市")
    run(target, "kb", "create", "手引", "--team", "総務課", "--classification", "2")
    with database.session() as db:
        scope = AccessScope(CLI_OPERATOR)
        kb = service.find_knowledge_base(db, scope, "手引")
        assert service.submit_document(db, scope, kb, filename="manual.md", data=manual()).outcome == "queued"


def job(database: Database) -> KbIngestJob:
    with database.session() as db:
        found = db.scalar(select(KbIngestJob).order_by(KbIngestJob.id.desc()))
        assert found is not None
        return found


def document(database: Database) -> KbDocument:
    with database.session() as db:
        found = db.scalar(select(KbDocument).where(KbDocument.name == "manual.md"))
        assert found is not None
        return found


def chunk_rows(database: Database) -> int:
    with database.session() as db:
        return int(db.scalar(select(func.count(KbChunk.id))) or 0)


def search(target: CliTarget, query: str) -> list[dict[str, object]]:
    hits: list[dict[str, object]] = json.loads(run(target, "kb", "search", "手引", query, "--json").stdout)["hits"]
    return hits


def wait_for(database: Database, worker: Worker, what: str, ok: Callable[[KbIngestJob], bool]) -> KbIngestJob:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        row = job(database)
        if ok(row):
            return row
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited before {what} (job {row.state}):\n{worker.output()}")
        time.sleep(0.05)
    raise AssertionError(f"no {what} in time:\n{worker.output()}")


def kill_mid_job(database: Database, worker: Worker, attempt: int, *, with_progress: bool) -> KbIngestJob:
    def running(row: KbIngestJob) -> bool:
        claimed = row.state is JobState.RUNNING and row.attempts == attempt
        return claimed and (row.chunks_done > 0 or not with_progress)

    wait_for(database, worker, f"attempt {attempt} running", running)
    worker.kill()
    row = job(database)
    assert row.state is JobState.RUNNING and row.attempts == attempt, "the worker finished before it was killed"
    assert row.worker is not None and f":{worker.process.pid}:" in row.worker
    assert row.chunks_done < SECTIONS + 1
    time.sleep(STALE_SECONDS + 0.5)  # its last heartbeat is now older than the rescuers' threshold
    return row


def assert_not_searchable(target: CliTarget, database: Database) -> None:
    assert chunk_rows(database) == 0
    assert search(target, QUERY) == []
    assert search(target, "受付番号の順に処理する") == []


def test_a_killed_workers_job_is_taken_over_and_published(target: CliTarget, tmp_path: Path) -> None:
    database = Database(target.database_url)
    try:
        queue_manual(target, database)
        crashed = kill_mid_job(database, start_worker(target, tmp_path / "a.log"), 1, with_progress=True)
        assert 0 < crashed.chunks_done < crashed.chunks_total == SECTIONS + 1
        assert document(database).status is DocumentStatus.PENDING
        assert_not_searchable(target, database)

        patient = start_worker(target, tmp_path / "b.log").finish()  # default threshold: 5 minutes
        assert "件のジョブを処理しました" not in patient
        assert job(database).attempts == 1

        rescuer = start_worker(target, tmp_path / "c.log", stale_seconds=STALE_SECONDS)
        assert "1 件のジョブを処理しました" in rescuer.finish()
        done = job(database)
        assert done.state is JobState.DONE and done.attempts == 2 and done.payload is None
        assert done.worker is not None and f":{rescuer.process.pid}:" in done.worker
        published = document(database)
        assert published.status is DocumentStatus.READY and published.chunk_count == SECTIONS + 1
        assert chunk_rows(database) == SECTIONS + 1
    finally:
        database.dispose()
    hits = search(target, QUERY)
    assert hits and hits[0]["document"] == "manual.md" and hits[0]["text"] == PHRASE


def test_a_job_that_kills_every_worker_is_failed_after_the_last_attempt(target: CliTarget, tmp_path: Path) -> None:
    database = Database(target.database_url)
    try:
        queue_manual(target, database)
        for attempt in (1, 2, 3):
            worker = start_worker(target, tmp_path / f"{attempt}.log", stale_seconds=STALE_SECONDS)
            kill_mid_job(database, worker, attempt, with_progress=False)
        start_worker(target, tmp_path / "last.log", stale_seconds=STALE_SECONDS).finish()
        failed = job(database)
        assert failed.state is JobState.FAILED and failed.attempts == 3 and failed.payload is None
        assert failed.error_message is not None
        assert "3 回試みましたが" in failed.error_message and "中止しました" in failed.error_message
        abandoned = document(database)
        assert abandoned.status is DocumentStatus.FAILED and abandoned.error_code == "ingest_abandoned"
        assert abandoned.error_message == failed.error_message
        assert_not_searchable(target, database)
    finally:
        database.dispose()
    assert "文書=0/1" in run(target, "kb", "list").output
