from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from hiraga.app import create_app
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import CallOutcome, ModelCall, Outcome
from hiraga.store import migrate
from hiraga.store.database import Database, normalise_url
from hiraga.store.tables import KbDocument, KbIngestJob, KnowledgeBase, Organisation
from hiraga.store.tables.knowledge import DocumentStatus, JobState
from hiraga.web.metrics import ModelCallMetrics

ROOT = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
    client.get("/no-such-page")
    metrics = client.get("/metrics").text
    assert 'hiraga_http_requests_total{method="GET",route="/readyz",status="200"}' in metrics
    assert 'route="unmatched",status="404"' in metrics


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"]


def test_oversized_body_is_refused(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    limit = app.state.ctx.settings.max_body_bytes
    response = client.post("/api/v1/anything", content=b"x" * (limit + 1), headers={"authorization": "Bearer x"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.fixture
def revision(database_url: str) -> Iterator[Callable[[str], None]]:
    """Set the database's recorded schema revision for one test, and put it back afterwards."""
    engine = sa.create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        original = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()

    def set_to(value: str) -> None:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": value})

    yield set_to
    set_to(original)
    engine.dispose()


def test_ready_follows_the_schema(
    client: TestClient, revision: Callable[[str], None], caplog: pytest.LogCaptureFixture
) -> None:
    """Behind this code: not ready, one clear log line. Ahead of it (a newer hiraga migrated during a
    rolling upgrade; migrations are additive): still ready, so old replicas keep serving."""
    previous = sorted(migrate.known_revisions() - migrate.head_revisions())[-1]
    revision(previous)
    with caplog.at_level(logging.INFO, logger="hiraga.health"):
        for _ in range(2):
            behind = client.get("/readyz")
            assert behind.status_code == 503
    assert behind.json()["error"]["detail"] == {"database": "ok", "migrations": "pending"}
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # once per change
    assert "hiraga db upgrade" in caplog.records[0].message
    revision("9999_from_a_newer_hiraga")
    ahead = client.get("/readyz")
    assert ahead.status_code == 200 and ahead.json()["checks"]["migrations"] == "newer"


def test_metrics_token_is_required_when_set(settings: Settings) -> None:
    guarded = create_app(settings.model_copy(update={"metrics_token": SecretStr("scrape-" + "k" * 32)}))
    with TestClient(guarded) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
        allowed = client.get("/metrics", headers={"authorization": "Bearer scrape-" + "k" * 32})
    assert allowed.status_code == 200 and "hiraga_store_up 1.0" in allowed.text


def test_store_gauges_show_the_queue_and_the_audit_head(client: TestClient, database: Database) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with database.session() as db:
        org = Organisation(name="A市")
        db.add(org)
        db.flush()
        kb = KnowledgeBase(organisation_id=org.id, name="規程集", classification=1)
        db.add(kb)
        db.flush()
        doc = KbDocument(kb_id=kb.id, name="a.txt", content_hash="0" * 64, byte_size=1, status=DocumentStatus.PENDING)
        db.add(doc)
        db.flush()
        # running elsewhere with a fresh heartbeat: the app's own ingestion worker leaves it alone
        job = KbIngestJob(kb_id=kb.id, document_id=doc.id, state=JobState.RUNNING, created_at=an_hour_ago)
        job.worker, job.heartbeat_at = "another-worker", datetime.now(UTC)
        db.add(job)
        directory.create_user(db, ROOT, email="a@city.example", password="Shiyakusho-2026!")
    text = client.get("/metrics").text
    assert 'hiraga_ingest_jobs{state="queued"} 0.0' in text
    assert 'hiraga_ingest_jobs{state="running"} 1.0' in text
    lag = float(text.split("\nhiraga_ingest_lag_seconds ")[1].split("\n")[0])
    assert 3590 < lag < 3700
    head_age = float(text.split("\nhiraga_audit_head_age_seconds ")[1].split("\n")[0])
    assert 0 <= head_age < 60


def test_model_calls_are_counted_by_kind_endpoint_and_outcome() -> None:
    registry = CollectorRegistry()
    calls = ModelCallMetrics(registry)
    call = ModelCall(principal=ROOT.principal, kind="chat", requested_model="default")
    calls.observe(call, CallOutcome(outcome=Outcome.OK, endpoint_name="vllm", latency_ms=1500, ttft_ms=200))
    calls.observe(call, CallOutcome(outcome=Outcome.REFUSED))
    sample = registry.get_sample_value
    assert sample("hiraga_model_calls_total", {"kind": "chat", "endpoint": "vllm", "outcome": "ok"}) == 1
    assert sample("hiraga_model_calls_total", {"kind": "chat", "endpoint": "none", "outcome": "refused"}) == 1
    assert sample("hiraga_model_call_duration_seconds_bucket", {"kind": "chat", "endpoint": "vllm", "le": "1.0"}) == 0
    assert sample("hiraga_model_call_duration_seconds_bucket", {"kind": "chat", "endpoint": "vllm", "le": "2.5"}) == 1
    assert sample("hiraga_model_time_to_first_token_seconds_count", {"endpoint": "vllm"}) == 1
