"""Hangs knowledge bases into the app: one ``KnowledgeRuntime`` per app (built on first use, so an
unmigrated database does not stop the app from starting) and, in the embedded shape (no Redis),
the in-process ingestion worker. In the scale-out shape ``hiraga worker`` processes ingest.

The RAG app of the ``hiraga.apps`` extension point runs with a ``RunContext`` that carries no
database; it finds the runtime of the running app through ``active()``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI

from hiraga.errors import UpstreamFailed
from hiraga.knowledge.jobs import BackgroundIngestor, IngestWorker
from hiraga.knowledge.runtime import Embedder, KnowledgeRuntime
from hiraga.store.database import Database
from hiraga.web.context import AppContext

log = logging.getLogger("hiraga.knowledge")
WIRING_KEY = "knowledge"
EMBEDDER_KEY = "knowledge_embedder"  # optional: a factory of the embedder (None: lexical search only)
_ACTIVE: list[KnowledgeWiring] = []


@dataclass
class KnowledgeWiring:
    ctx: AppContext
    ingestor: BackgroundIngestor | None = None
    _runtime: KnowledgeRuntime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def database(self) -> Database:
        return self.ctx.database

    def runtime(self) -> KnowledgeRuntime:
        with self._lock:
            if self._runtime is None:
                factory: Callable[[], Embedder | None] | None = self.ctx.extras.get(EMBEDDER_KEY)
                self._runtime = KnowledgeRuntime(self.ctx.database, self.ctx.settings.data_dir, embedder=factory)
            return self._runtime

    def wake(self) -> None:
        """A document was submitted: let the in-process worker look now rather than at its next poll."""
        if self.ingestor is not None:
            self.ingestor.wake()

    def start_worker(self) -> None:
        if self.ctx.settings.redis_url is not None or self.ingestor is not None:
            return
        try:
            self.ingestor = BackgroundIngestor(IngestWorker.from_settings(self.runtime(), self.ctx.settings))
        except Exception:  # e.g. the database is not migrated yet: /readyz says so
            log.warning("the in-process ingestion worker was not started", exc_info=True)
            return
        self.ingestor.start()

    def stop_worker(self) -> None:
        if self.ingestor is not None:
            self.ingestor.stop()
            self.ingestor = None


def of(ctx: AppContext) -> KnowledgeWiring:
    wiring: KnowledgeWiring = ctx.extras[WIRING_KEY]
    return wiring


def active() -> KnowledgeWiring:
    """The knowledge bases of the app running in this process (the latest one started)."""
    if not _ACTIVE:
        raise UpstreamFailed("ナレッジベースが利用できません。", code="knowledge_unavailable")
    return _ACTIVE[-1]


def install(app: FastAPI, ctx: AppContext) -> KnowledgeWiring:
    wiring = KnowledgeWiring(ctx)
    ctx.extras[WIRING_KEY] = wiring

    async def start() -> None:
        _ACTIVE.append(wiring)
        await asyncio.to_thread(wiring.start_worker)

    async def stop() -> None:
        await asyncio.to_thread(wiring.stop_worker)
        if wiring in _ACTIVE:
            _ACTIVE.remove(wiring)

    app.router.add_event_handler("startup", start)
    app.router.add_event_handler("shutdown", stop)
    return wiring
