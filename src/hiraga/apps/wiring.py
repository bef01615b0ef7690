"""Hangs the apps into the app: the run runtime, hiraga's own apps (entry points) and their
protocol routes, and the home catalogue of registered apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from hiraga.apps import registry
from hiraga.apps.client import AppClient
from hiraga.apps.provider_jobs import ProvidedRunner
from hiraga.apps.provider_side import discover_apps
from hiraga.apps.runs import AppRuntime
from hiraga.gateway.wiring import registry_rules
from hiraga.net.outbound import OutboundClient
from hiraga.spine.authorize import AccessScope
from hiraga.usage.hooks import installed_hooks
from hiraga.web.context import AppContext

RUNTIME_KEY = "app_runtime"
CATALOGUE_KEY = "app_catalogue"


def build_runtime(ctx: AppContext) -> AppRuntime:
    settings = ctx.settings
    outbound = OutboundClient(allowed_hosts=settings.allowed_upstream_hosts)
    return AppRuntime(
        database=ctx.database,
        box=registry_rules(settings).box,
        client=AppClient(outbound),
        hooks=lambda: installed_hooks(ctx.extras),
    )


def catalogue(previous: Callable[[Session, AccessScope], Any] | None) -> Callable[[Session, AccessScope], list[Any]]:
    """Registered apps the caller may run (published to one of their teams), after any earlier entries."""

    def entries(db: Session, scope: AccessScope) -> list[Any]:
        found = list(previous(db, scope)) if previous is not None else []
        mine = scope.principal.team_ids
        for app in registry.list_apps(db, scope):
            if app.status == registry.PUBLISHED and (mine & set(app.team_ids) or scope.principal.is_system_admin):
                summary = app.description.strip().splitlines()[0][:200] if app.description.strip() else ""
                found.append({"url": f"/apps/{app.slug}", "name": app.name, "description": summary})
        return found

    return entries


def install(app: FastAPI, ctx: AppContext) -> None:
    from hiraga.web.gennai import routes  # its router is one of the shared routes (hiraga.web.site)

    runtime = build_runtime(ctx)
    ctx.extras[RUNTIME_KEY] = runtime
    runner = ProvidedRunner(ctx.database, discover_apps(), lambda: ctx.extras.get("gateway"))
    ctx.extras[routes.RUNNER_KEY] = runner
    ctx.extras[CATALOGUE_KEY] = catalogue(ctx.extras.get(CATALOGUE_KEY))
    app.router.add_event_handler("shutdown", runtime.close)
    app.router.add_event_handler("shutdown", runner.close)
