"""The edge middlewares: HSTS when served over HTTPS."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.settings import Settings


def _client(settings: Settings, tmp_path: Path, base_url: str) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"base_url": base_url})))


def test_hsts_is_sent_when_the_base_url_is_https(settings: Settings, tmp_path: Path) -> None:
    with _client(settings, tmp_path, "https://ai.example.lg.jp") as client:
        responses = [client.get("/healthz"), client.get("/login"), client.get("/api/v1/me")]
    for response in responses:
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_over_plain_http(settings: Settings, tmp_path: Path) -> None:
    with _client(settings, tmp_path, "http://localhost:8000") as client:
        assert "strict-transport-security" not in client.get("/healthz").headers
