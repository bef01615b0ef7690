"""What operators graph about the shared store, read when Prometheus scrapes: the ingestion queue and
the age of the newest audit record. Each is one query on an indexed column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from hiraga.store.tables import AuditRecord, KbIngestJob
from hiraga.store.tables.knowledge import JobState


@dataclass(frozen=True, slots=True)
class StoreGauges:
    jobs: dict[str, int]  # ingestion jobs waiting or running, by state
    ingest_lag_seconds: float  # age of the oldest job not yet done (0: none waiting)
    audit_head_age_seconds: float | None  # since the newest audit record (None: no records yet)


def read_gauges(connection: Connection, now: datetime | None = None) -> StoreGauges:
    now = now or datetime.now(UTC)
    waiting = (JobState.QUEUED, JobState.RUNNING)
    rows = connection.execute(
        select(KbIngestJob.state, func.count(), func.min(KbIngestJob.created_at))
        .where(KbIngestJob.state.in_(waiting))
        .group_by(KbIngestJob.state)
    ).all()
    jobs = {str(state.value): 0 for state in waiting}
    oldest: datetime | None = None
    for state, count, first in rows:
        jobs[str(JobState(state).value)] = int(count)
        oldest = first if oldest is None or (first is not None and first < oldest) else oldest
    newest = connection.scalar(select(func.max(AuditRecord.occurred_at)))
    return StoreGauges(
        jobs=jobs,
        ingest_lag_seconds=max(0.0, (now - _aware(oldest)).total_seconds()) if oldest else 0.0,
        audit_head_age_seconds=max(0.0, (now - _aware(newest)).total_seconds()) if newest else None,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
