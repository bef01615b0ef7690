"""Hangs the gateway into the app: providers from the entry points, the registry snapshot, the
/v1 routes and the admin API's handle, and the built-in embedded endpoints on first start."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from hiraga import plugins
from hiraga.gateway.catalog import CatalogCache
from hiraga.gateway.platform_policy import PlatformPolicy
from hiraga.gateway.principals import PrincipalCache
from hiraga.gateway.registry import RegistryRules, ensure_builtin_endpoints
from hiraga.gateway.secrets import SecretBox
from hiraga.gateway.service import Gateway, GatewayHooks
from hiraga.providers.base import ModelProvider
from hiraga.settings import Settings
from hiraga.spine.pii import PiiStep, shared_guard

if TYPE_CHECKING:  # annotations only: the CLI's evaluation and workers build a gateway without the web app
    from fastapi import FastAPI

    from hiraga.web.context import AppContext

log = logging.getLogger("hiraga.gateway")


def build_providers(settings: Settings) -> dict[str, ModelProvider]:
    providers: dict[str, ModelProvider] = {}
    for name, factory in plugins.discover("providers").items():
        try:
            providers[name] = factory(settings)
        except Exception:  # one broken plugin must not take the gateway down
            log.exception("model provider %s could not be started", name)
    return providers


def registry_rules(settings: Settings) -> RegistryRules:
    return RegistryRules(box=SecretBox(settings.secret()), allowed_hosts=tuple(settings.allowed_upstream_hosts))


def install(app: FastAPI, ctx: AppContext, hooks: GatewayHooks | None = None) -> Gateway:
    """Create the gateway. Policy/audit hooks: ``hooks``, else whatever is in
    ``ctx.extras["gateway_hooks"]`` when a call comes (it may be set after this), else none."""
    from hiraga.web.v1 import routes

    settings = ctx.settings
    rules = registry_rules(settings)
    catalog = CatalogCache(ctx.database, rules.box, rules.allowed_hosts, settings.gateway_cache_seconds)
    gateway = Gateway(
        catalog=catalog,
        providers=build_providers(settings),
        hooks=hooks,
        hooks_lookup=lambda: ctx.extras.get("gateway_hooks"),
        pii=PiiStep(shared_guard),  # the detectors load on the first external call, once per process
    )
    ctx.extras["gateway"] = gateway
    ctx.extras["platform_policy"] = PlatformPolicy(
        ctx.database, settings.default_classification, settings.gateway_cache_seconds
    )
    ctx.extras["gateway_principals"] = PrincipalCache(ctx.database, settings.gateway_cache_seconds)
    ctx.extras["gateway_rules"] = rules
    for route in routes():
        app.router.routes.append(route)

    async def seed_builtins() -> None:
        def seed() -> Any:
            with ctx.database.session() as db:
                return ensure_builtin_endpoints(db)

        try:
            await asyncio.to_thread(seed)
        except Exception:  # the database may not be migrated yet: /readyz reports that
            log.warning("built-in model endpoints were not seeded", exc_info=True)

    app.router.add_event_handler("startup", seed_builtins)
    app.router.add_event_handler("shutdown", gateway.aclose)
    return gateway
