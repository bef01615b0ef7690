"""Prometheus metrics beyond the HTTP middleware's: model calls by kind, endpoint and outcome (fed by
the gateway's audit hook), and the shared store's gauges (``hiraga.store.gauges``) read at scrape time.
Every metric is documented in docs/operations.md (監視)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hiraga.spine.call import CallOutcome, ModelCall
from hiraga.store.database import Database
from hiraga.store.gauges import read_gauges

log = logging.getLogger("hiraga.metrics")
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class ModelCallMetrics:
    """Counts every model call the gateway records, and its latency and time to first token."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "hiraga_model_calls_total",
            "Model calls by kind (chat/embeddings/rerank), endpoint and outcome (ok/refused/failed/cancelled)",
            ["kind", "endpoint", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "hiraga_model_call_duration_seconds",
            "Model call latency (whole answer) by kind and endpoint",
            ["kind", "endpoint"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.first_token = Histogram(
            "hiraga_model_time_to_first_token_seconds",
            "Time to the first streamed token by endpoint",
            ["endpoint"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )

    def observe(self, call: ModelCall, outcome: CallOutcome) -> None:
        endpoint = outcome.endpoint_name or "none"
        self.calls.labels(call.kind, endpoint, str(outcome.outcome)).inc()
        if outcome.latency_ms is not None:
            self.latency.labels(call.kind, endpoint).observe(outcome.latency_ms / 1000)
        if outcome.ttft_ms is not None:
            self.first_token.labels(endpoint).observe(outcome.ttft_ms / 1000)


class StoreCollector(Collector):
    """Ingestion queue depth and lag and the audit chain head's age, from the database at scrape time.
    They describe the shared store, so every replica reports the same values (graph one, or max)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("hiraga_store_up", "1 when the database answered the metrics queries")
        try:
            with self.database.engine.connect() as connection:
                gauges = read_gauges(connection)
        except Exception:  # a scrape reports the database as down; it never fails
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("hiraga_ingest_jobs", "Ingestion jobs not yet done, by state", labels=["state"])
        for state, count in sorted(gauges.jobs.items()):
            depth.add_metric([state], count)
        yield depth
        yield GaugeMetricFamily(
            "hiraga_ingest_lag_seconds",
            "Age of the oldest ingestion job not yet done (0 when the queue is empty)",
            value=gauges.ingest_lag_seconds,
        )
        if gauges.audit_head_age_seconds is not None:
            yield GaugeMetricFamily(
                "hiraga_audit_head_age_seconds",
                "Seconds since the newest audit record (the chain head) was written",
                value=gauges.audit_head_age_seconds,
            )


def install(registry: CollectorRegistry, database: Database) -> ModelCallMetrics:
    registry.register(StoreCollector(database))
    return ModelCallMetrics(registry)
