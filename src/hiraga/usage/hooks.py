"""The gateway's hooks into policy (quota admission) and audit, and their wiring into the app.

The gateway calls, for every model call, ``admit`` before routing (it raises ``TooManyRequests``
to refuse) and always afterwards ``settle`` and ``record`` (side by side), whatever the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from hiraga.audit import keys as audit_keys
from hiraga.audit.anchors import Anchorer
from hiraga.errors import TooManyRequests
from hiraga.settings import Settings
from hiraga.spine.audit import AuditTrail
from hiraga.spine.call import CallOutcome, ModelCall
from hiraga.spine.policy import Admission, CounterStore, LimitBook, LimitRule, Reservation
from hiraga.store.database import Database
from hiraga.usage.counters import RedisCounterStore, SqlCounterStore, drop_expired_counters
from hiraga.usage.ledger import Ledger
from hiraga.usage.limits import load_rules

log = logging.getLogger("hiraga.usage")
EXTRAS_KEY = "gateway_hooks"


class UsageHooks:
    """Implements the gateway's ``GatewayHooks``: admit, settle, record."""

    def __init__(self, admission: Admission, trail: AuditTrail, ledger: Ledger, redis: Redis | None) -> None:
        self.admission = admission
        self.trail = trail
        self.ledger = ledger
        self.redis = redis
        self._reservations: dict[str, Reservation] = {}
        self._refusals: dict[str, dict[str, Any]] = {}
        # told of every recorded call after its audit row is written (Prometheus counters: web/metrics.py)
        self.observers: list[Callable[[ModelCall, CallOutcome], None]] = []

    async def admit(self, call: ModelCall) -> None:
        try:
            reservation = await self.admission.admit(call)
        except TooManyRequests as refusal:
            self._refusals[call.request_id] = {"limit": refusal.detail, "retry_after": refusal.retry_after}
            raise
        if reservation.charges:
            self._reservations[call.request_id] = reservation

    async def settle(self, call: ModelCall, outcome: CallOutcome) -> None:
        reservation = self._reservations.pop(call.request_id, None)
        if reservation is not None:
            await self.admission.settle(reservation, outcome)

    async def record(self, call: ModelCall, outcome: CallOutcome) -> None:
        await self.trail.record(call, outcome, self._refusals.pop(call.request_id, None))
        for observe in self.observers:
            observe(call, outcome)

    def limits_changed(self) -> None:
        self.admission.book.invalidate()

    async def close(self) -> None:
        self.ledger.close()
        if self.redis is not None:
            await self.redis.aclose()


def build_hooks(settings: Settings, database: Database, redis_prefix: str = "hiraga:") -> UsageHooks:
    audit_keys.bind(database.engine, settings)  # every writer of this engine chains audit records
    anchorer = Anchorer(settings, audit_keys.keys_for(settings).anchor)

    def housekeeping(connection: Connection) -> None:
        drop_expired_counters(connection)
        anchorer.housekeep(connection)

    ledger = Ledger(database.engine, housekeeping=housekeeping)
    sessions = sessionmaker(database.engine, expire_on_commit=False)

    def load() -> list[LimitRule]:
        with sessions() as session:
            return load_rules(session)

    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    store: CounterStore = RedisCounterStore(redis, redis_prefix) if redis else SqlCounterStore(ledger)
    return UsageHooks(Admission(LimitBook(load), store), AuditTrail(ledger), ledger, redis)


def install(extras: dict[str, Any], settings: Settings, database: Database) -> UsageHooks:
    """Put the hooks where the gateway finds them; the caller closes them at shutdown."""
    hooks = build_hooks(settings, database)
    extras[EXTRAS_KEY] = hooks
    return hooks


def installed_hooks(extras: dict[str, Any]) -> UsageHooks | None:
    hooks = extras.get(EXTRAS_KEY)
    return hooks if isinstance(hooks, UsageHooks) else None
