"""API key → Principal for ``/v1``, cached for a few seconds to keep the database off the hot path.

A revoked or expired key, a deactivated user or a changed team membership takes effect in every
process within ``gateway_cache_seconds`` (default 2 s); a key's own expiry time is honoured exactly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from hiraga.errors import NotAuthenticated
from hiraga.identity import tokens
from hiraga.identity.principal import Principal
from hiraga.spine import authenticate
from hiraga.store.database import Database
from hiraga.store.tables import ApiKey

MAX_ENTRIES = 10_000


class PrincipalCache:
    def __init__(self, database: Database, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._database, self._ttl, self._clock = database, ttl, clock
        self._entries: dict[str, tuple[Principal, float, datetime | None]] = {}
        self._loading: dict[str, asyncio.Task[tuple[Principal, datetime | None]]] = {}

    async def authenticate(self, authorization: str | None, client_address: str | None = None) -> Principal:
        """``client_address`` goes into the audit record of a refused key (cached principals are
        shared by every caller of the key, so they carry no address)."""
        if not authorization:
            raise NotAuthenticated("API キーを「Authorization: Bearer <API キー>」で指定してください。")
        key = tokens.digest(authorization)
        entry = self._entries.get(key)
        now = self._clock()
        if entry is not None:
            principal, fresh_until, expires_at = entry
            if now < fresh_until and (expires_at is None or expires_at > datetime.now(UTC)):
                return principal
            self._entries.pop(key, None)
        loading = self._loading.get(key)  # one lookup per key at a time: concurrent callers share it
        if loading is None or loading.get_loop() is not asyncio.get_running_loop():
            load = asyncio.to_thread(self._load_once, authorization, client_address)
            loading = self._loading[key] = asyncio.ensure_future(load)
            loading.add_done_callback(
                lambda done: self._loading.pop(key, None) if self._loading.get(key) is done else None
            )
        principal, expires_at = await asyncio.shield(loading)
        if self._ttl > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (principal, now + self._ttl, expires_at)
        return principal

    def forget_all(self) -> None:
        self._entries.clear()
        self._loading.clear()

    def _load_once(self, authorization: str, client_address: str | None) -> tuple[Principal, datetime | None]:
        with self._database.session() as db:
            principal = authenticate.from_bearer(db, authorization, client_address)
            if principal is None:  # from_bearer returns None only for an empty header
                raise NotAuthenticated()
            row = db.get(ApiKey, principal.api_key_id) if principal.api_key_id is not None else None
            return replace(principal, client_address=None), row.expires_at if row is not None else None
