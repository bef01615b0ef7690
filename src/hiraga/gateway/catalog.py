"""An in-memory snapshot of the model registry, reloaded after a few seconds.

The hot path reads the snapshot, never the database. Writes in this process invalidate it at once;
other processes see them within ``gateway_cache_seconds``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import HiragaError
from hiraga.gateway.protocol import ModelCard
from hiraga.gateway.refreshed import Refreshed
from hiraga.gateway.secrets import SecretBox
from hiraga.gateway.ssrf import check_upstream_url
from hiraga.providers.base import EndpointConfig
from hiraga.store.database import Database
from hiraga.store.tables import ModelAlias, ModelEndpoint

log = logging.getLogger("hiraga.gateway")


@dataclass(frozen=True, slots=True)
class Catalog:
    endpoints: dict[str, EndpointConfig] = field(default_factory=dict)
    aliases: dict[str, list[list[EndpointConfig]]] = field(default_factory=dict)

    def tiers(self, name: str) -> list[list[EndpointConfig]]:
        """The endpoints behind a requested name, by priority tier; [] when the name is unknown."""
        chain = self.aliases.get(name)
        if chain is not None:
            return chain
        endpoint = self.endpoints.get(name)
        return [[endpoint]] if endpoint is not None else []


def endpoint_config(row: ModelEndpoint, api_key: str | None) -> EndpointConfig:
    return EndpointConfig(
        id=row.id,
        name=row.name,
        provider=row.provider,
        kind=row.kind,
        base_url=row.base_url,
        upstream_model=row.upstream_model,
        api_key=api_key,
        api_version=row.api_version,
        model_path=row.model_path,
        description=row.description,
        context_window=row.context_window,
        price_input_per_1k=row.price_input_per_1k,
        price_output_per_1k=row.price_output_per_1k,
        clearance=row.clearance,
        external=row.external,
        pii_policy=row.pii_policy,
        team_ids=None if row.all_teams else frozenset(t.team_id for t in row.teams),
        timeout_seconds=row.timeout_seconds,
        max_concurrent=row.max_concurrent,
        tags=tuple(row.tags or ()),
        enabled=row.enabled,
    )


def load_catalog(db: Session, box: SecretBox, allowed_hosts: Iterable[str]) -> Catalog:
    endpoints: dict[str, EndpointConfig] = {}
    by_id: dict[int, EndpointConfig] = {}
    hosts = list(allowed_hosts)
    for row in db.scalars(select(ModelEndpoint).order_by(ModelEndpoint.id)):
        try:
            if row.base_url:
                check_upstream_url(row.base_url, hosts)
            key = box.decrypt(row.api_key_encrypted) if row.api_key_encrypted else None
        except HiragaError as exc:
            log.warning("model endpoint %s left out: %s", row.name, exc.message)
            continue
        by_id[row.id] = endpoints[row.name] = endpoint_config(row, key)
    tiers: dict[str, dict[int, list[EndpointConfig]]] = {}
    for alias in db.scalars(select(ModelAlias).order_by(ModelAlias.name, ModelAlias.priority)):
        if alias.endpoint_id in by_id:
            tiers.setdefault(alias.name, {}).setdefault(alias.priority, []).append(by_id[alias.endpoint_id])
    aliases = {name: [group[p] for p in sorted(group)] for name, group in tiers.items()}
    return Catalog(endpoints=endpoints, aliases=aliases)


class CatalogCache:
    """Hands out the current Catalog; reloads it in a worker thread when it is older than ``ttl``."""

    def __init__(
        self,
        database: Database,
        box: SecretBox,
        allowed_hosts: Iterable[str],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database, self._box, self._hosts = database, box, list(allowed_hosts)
        self._current = Refreshed(self.load_now, ttl, clock)

    def invalidate(self) -> None:
        self._current.invalidate()

    async def get(self) -> Catalog:
        return await self._current.get()

    def load_now(self) -> Catalog:
        with self._database.session() as db:
            return load_catalog(db, self._box, self._hosts)


def model_card(name: str, endpoint: EndpointConfig, alias_of: list[str] | None = None) -> ModelCard:
    """An endpoint (or an alias of ``alias_of``) as ``GET /v1/models`` lists it."""
    info: dict[str, Any] = {
        "kind": endpoint.kind,
        "clearance": endpoint.clearance,
        "external": endpoint.external,
        "tags": list(endpoint.tags),
        "description": endpoint.description,
        "context_window": endpoint.context_window,
    }
    if alias_of is not None:
        info["alias_of"] = alias_of
    return ModelCard(id=name, hiraga=info)
