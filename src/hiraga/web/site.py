"""hiraga's HTTP routes (pages, the /api/v1 API, Gennai's provider side, SCIM), assembled once per process.

FastAPI works out each included route's request handling (dependency graph, validation models) for
the router that includes it, on the first request that walks past it: about a second for these
~250 routes on this project's CI machine, several under load. The routes are module-level and keep no
state of their own (they reach the app's through ``request.app.state``), so every app the process
makes shares one assembled tree, built when the first app is made (``hiraga serve``: before it
listens, so no first request waits for it; a test suite that makes an app per test: once per process
instead of once per test). Each app keeps its own ``/v1`` and
``/mcp`` routes (matched before these) and static files (after).
"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Depends
from starlette.routing import BaseRoute

from hiraga.web.deps import csrf_guard

WARM_UP_SCOPE = {"type": "http", "method": "GET", "path": "/.no-such-route", "root_path": "", "headers": []}


def feature_routers() -> list[APIRouter]:
    """Each feature's module-level router, in the order requests are matched."""
    from hiraga.web import health, scim
    from hiraga.web.api import routers as api_routers
    from hiraga.web.gennai import routes as gennai_routes
    from hiraga.web.pages import routers as page_routers

    return [health.router, gennai_routes.router, *page_routers(), *api_routers(), scim.router]


@cache
def shared_routes() -> tuple[BaseRoute, ...]:
    """The assembled routes, CSRF-guarded: unsafe requests without an API key need the token."""
    site = APIRouter(dependencies=[Depends(csrf_guard)])
    for router in feature_routers():
        site.include_router(router)
    routes = tuple(site.routes)
    for route in routes:  # a path no route has walks them all: FastAPI builds each one's handling now
        route.matches(dict(WARM_UP_SCOPE))
    return routes
