"""Platform policy that system administrators set at run time: the default classification (機密性)
of requests that name none. Stored in ``platform_settings``; ``Settings.default_classification`` is
only the value used until an administrator sets one. Every process re-reads it within
``gateway_cache_seconds`` of a change, so no restart is needed."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from hiraga.gateway.refreshed import Refreshed
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import Classification
from hiraga.spine.classification import DEFAULT_CLASSIFICATION_KEY, as_classification
from hiraga.store.database import Database
from hiraga.store.tables import PlatformSetting


def default_classification(db: Session, fallback: int) -> Classification:
    row = db.get(PlatformSetting, DEFAULT_CLASSIFICATION_KEY)
    if row is None or not row.value.isdigit():
        return Classification(fallback)
    return as_classification(row.value)


def set_default_classification(db: Session, scope: AccessScope, level: int | str) -> Classification:
    """System administrators only; 400 when ``level`` is not 1, 2 or 3 (nothing is changed)."""
    scope.require_system_admin()
    chosen = as_classification(level, field="default_classification")
    row = db.get(PlatformSetting, DEFAULT_CLASSIFICATION_KEY)
    if row is None:
        row = PlatformSetting(key=DEFAULT_CLASSIFICATION_KEY, value=str(int(chosen)))
        db.add(row)
    row.value, row.updated_by = str(int(chosen)), scope.principal.user_id
    db.flush()
    return chosen


class PlatformPolicy:
    """The default classification as the hot path needs it: read from the database at most every
    ``ttl`` seconds (at once after ``invalidate``, which this process's writes call)."""

    def __init__(
        self, database: Database, fallback: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._database, self._fallback = database, fallback
        self._current = Refreshed(self._load, ttl, clock)

    def invalidate(self) -> None:
        self._current.invalidate()

    async def default_classification(self) -> Classification:
        return await self._current.get()

    def _load(self) -> Classification:
        with self._database.session() as db:
            return default_classification(db, self._fallback)
