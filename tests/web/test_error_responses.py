"""The one error mapper: headers an error carries reach the response."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_405_names_the_allowed_methods(client: TestClient) -> None:
    for method, path, allowed in [
        ("DELETE", "/api/v1/organisations", {"GET", "POST"}),
        ("GET", "/v1/chat/completions", {"POST"}),
        ("PUT", "/login", {"GET", "POST"}),
    ]:
        response = client.request(method, path)
        assert response.status_code == 405, (method, path)
        assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}, (method, path)
