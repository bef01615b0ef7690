from __future__ import annotations

from fastapi.testclient import TestClient


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
