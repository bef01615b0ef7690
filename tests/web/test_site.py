from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.settings import Settings
from hiraga.web.site import feature_routers, shared_routes

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
NOT_CHECKED = ("/gennai/", "/scim/")  # header-key APIs: csrf.needs_check exempts them


def _unsafe_routes() -> list[tuple[str, str]]:
    found = []
    for router in feature_routers():
        for route in router.routes:
            if isinstance(route, APIRoute) and not route.path.startswith(NOT_CHECKED):
                found += [(method, route.path) for method in sorted(route.methods & UNSAFE)]
    return found


def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(client: TestClient) -> None:
    """Nothing reaches an endpoint (not even validation or authentication) before the CSRF check."""
    routes = _unsafe_routes()
    assert len(routes) > 100  # pages and /api/v1: the walk found the feature routers' routes
    refused = []
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = client.request(method, url)
        refused.append((method, path, response.status_code, response.json().get("error", {}).get("code")))
    assert [r for r in refused if r[2:] != (403, "csrf_rejected")] == []


def test_apps_share_one_assembled_route_tree(app: FastAPI, settings: Settings) -> None:
    second = create_app(settings)
    assert shared_routes() is shared_routes()
    shared = set(map(id, shared_routes()))
    assert shared <= set(map(id, app.router.routes)) and shared <= set(map(id, second.router.routes))
    # each app still has its own /v1 and /mcp routes, bound to its own context
    own = [r for r in app.router.routes if id(r) not in shared]
    assert {getattr(r, "path", None) for r in own} >= {"/v1/chat/completions", "/mcp"}
    assert not {id(r) for r in own} & {id(r) for r in second.router.routes}
