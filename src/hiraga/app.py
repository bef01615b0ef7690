"""The app factory: settings → database → routers. Nothing here runs at import time."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from hiraga import __version__, logs
from hiraga.apps import wiring as apps_wiring
from hiraga.evaluation import wiring as evaluation_wiring
from hiraga.gateway import wiring as gateway_wiring
from hiraga.identity.passwords import use_hashing_profile
from hiraga.knowledge import wiring as knowledge_wiring
from hiraga.mcp import wiring as mcp_wiring
from hiraga.net.client_address import TrustedProxies
from hiraga.portal import catalogue as task_app_catalogue
from hiraga.settings import Settings, load_settings
from hiraga.store.database import Database
from hiraga.usage.hooks import install as install_usage_hooks
from hiraga.web import access_log, metrics
from hiraga.web.context import STATIC_DIR, AppContext
from hiraga.web.error_responses import install_error_handlers
from hiraga.web.middleware import BodySizeLimit, ClientAddress, Metrics, RequestId, StrictTransportSecurity
from hiraga.web.site import shared_routes

log = logging.getLogger("hiraga")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    if settings.log_format == "json":
        logs.configure("json")
    use_hashing_profile(settings.password_hashing, environment=settings.environment)
    ctx = AppContext(settings=settings, database=Database(settings.effective_database_url))
    app = FastAPI(
        title="hiraga",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.metrics_registry = CollectorRegistry()
    install_error_handlers(app)
    gateway_wiring.install(app, ctx)
    apps_wiring.install(app, ctx)
    knowledge_wiring.install(app, ctx)
    evaluation_wiring.install(app, ctx)
    mcp_wiring.install(app, ctx)
    app.router.routes.extend(shared_routes())  # after /v1 and /mcp: the gateway's calls match first
    # the home page lists the built-in task apps after the published apps
    ctx.extras[apps_wiring.CATALOGUE_KEY] = task_app_catalogue.hook(ctx.extras.get(apps_wiring.CATALOGUE_KEY))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.access_log:
        access_log.enable(settings.log_format)
    app.add_middleware(Metrics, registry=app.state.metrics_registry, log_requests=settings.access_log)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    if settings.is_https:
        app.add_middleware(StrictTransportSecurity)
    app.add_middleware(RequestId)
    if settings.trusted_proxies:  # without trusted proxies the TCP peer is the client: nothing to rewrite
        app.add_middleware(ClientAddress, trusted=TrustedProxies(settings.trusted_proxies))  # outermost
    hooks = install_usage_hooks(ctx.extras, settings, ctx.database)
    hooks.observers.append(metrics.install(app.state.metrics_registry, ctx.database).observe)
    app.router.add_event_handler("shutdown", hooks.close)
    app.router.add_event_handler("shutdown", ctx.database.dispose)
    return app
