"""The embedded index: files in the data directory, memory-mapped, updated per generation.

The database holds every chunk (text, terms, vector); this index is a derived, read-only snapshot
of one knowledge base's *searchable* chunks under ``<data_dir>/knowledge/kb-<id>/g<generation>/``
(``snapshots``). When ingestion makes a document searchable (or deletes one), the knowledge base's
generation goes up and the next search brings the snapshot up to date; a half-ingested document is
never in any snapshot.

Incremental updates, Lucene-style. A snapshot is a base segment plus small delta segments, each
with tombstones (``segments``), and it records the version of every document it reflects. On a
generation change the index asks the source for the documents' current versions (one query over
``kb_documents``), deletes the chunks of changed and removed documents (tombstones), and writes the
chunks of changed and added documents as one new delta segment; only those rows are read. BM25
statistics (chunk count, average length, document frequencies) are computed over the live chunks of
all segments at query time, so scores equal those of a full rebuild. A full rebuild still happens
for the first snapshot, for sources that cannot list versions, and when the generation moved by more
than the number of documents whose version changed — something changed that no document's version
shows, such as ``hiraga kb reindex`` rewriting chunks in place.

Merge policy: when a snapshot has more than ``MergePolicy.max_deltas`` (8) delta segments, or its
deltas and tombstones together exceed ``max_churn`` (10 %) of the base segment (and at least
``min_churn`` chunks), a merge rebuilds the whole knowledge base from the database into a new base
— in a background thread, while searches keep using the current snapshot. The merged snapshot is
installed by the next search, after the changes made meanwhile are applied to it as a delta.

If an update fails (disk full, a crash simulated in tests), the error is logged and searches keep
using the previous snapshot; a search ``retry_after_failure`` seconds later tries again, starting
from the newest complete snapshot on disk. Snapshots found on disk (after a restart, or a failure)
are checked against the documents' versions before they are served.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from hiraga.knowledge.index import snapshots
from hiraga.knowledge.index.base import ChunkFilter, ScoredChunk, Vector
from hiraga.knowledge.index.segments import IndexRow
from hiraga.knowledge.index.snapshots import Snapshot

__all__ = ["ChunkSource", "EmbeddedIndex", "IncrementalChunkSource", "IndexRow", "MergePolicy", "Snapshot"]
log = logging.getLogger("hiraga.knowledge.index")


class ChunkSource(Protocol):
    def generation(self, kb_id: int) -> int: ...

    def searchable_rows(self, kb_id: int) -> Iterable[IndexRow]: ...


@runtime_checkable
class IncrementalChunkSource(ChunkSource, Protocol):
    def document_versions(self, kb_id: int) -> tuple[int, dict[int, str]]:
        """The generation and, read together with it, every searchable document's version: a value
        that changes whenever the document's searchable chunks change."""
        ...

    def document_rows(self, kb_id: int, document_ids: Collection[int]) -> Iterable[IndexRow]:
        """The searchable chunks of these documents."""
        ...


@dataclass(frozen=True, slots=True)
class MergePolicy:
    max_deltas: int = 8
    max_churn: float = 0.10
    min_churn: int = 500

    def wants_merge(self, snapshot: Snapshot) -> bool:
        parts = snapshot.parts
        if snapshot.documents is None or not parts:
            return False
        churn = sum(p.segment.size for p in parts[1:]) + sum(len(p.deleted) for p in parts)
        limit = max(self.max_churn * parts[0].segment.size, self.min_churn)
        return len(parts) - 1 > self.max_deltas or churn > limit


class EmbeddedIndex:
    """``SearchIndex`` over memory-mapped snapshot files."""

    def __init__(
        self,
        root: Path,
        source: ChunkSource,
        *,
        dimensions: int = 384,
        bigram_weight: float = 0.5,
        merge_policy: MergePolicy | None = None,
        background_merges: bool = True,
        retry_after_failure: float = 30.0,
    ) -> None:
        self.root = root
        self.source = source
        self.dimensions = dimensions
        self.bigram_weight = bigram_weight
        self.merge_policy = merge_policy or MergePolicy()
        self.background_merges = background_merges
        self.retry_after_failure = retry_after_failure
        self._loaded: dict[int, Snapshot] = {}
        self._merged: dict[int, Snapshot] = {}  # finished merges, installed by the next search
        self._merging: dict[int, threading.Thread] = {}
        self._incarnation: dict[int, int] = {}  # bumped by remove(), so a late merge is discarded
        self._failed: dict[int, float] = {}  # when the last update failed; the next starts from the disk
        self._lock = threading.RLock()

    # -- snapshots -----------------------------------------------------------------------------------
    def snapshot(self, kb_id: int) -> Snapshot:
        generation = self.source.generation(kb_id)
        cached = self._loaded.get(kb_id)
        if cached is not None and cached.generation == generation and kb_id not in self._merged:
            return cached
        with self._lock:
            return self._refresh(kb_id, generation)

    def _refresh(self, kb_id: int, generation: int) -> Snapshot:
        current = self._loaded.get(kb_id)
        merged = self._merged.pop(kb_id, None)
        if merged is None and current is not None and current.generation == generation:
            return current
        failed_at = self._failed.get(kb_id, -float("inf"))
        if merged is None and current is not None and time.monotonic() - failed_at < self.retry_after_failure:
            return current  # the last update failed moments ago: do not make every search retry it
        kb_dir = self._kb_dir(kb_id)
        # a snapshot built here is trusted; one found on disk (or after a failure) is checked first
        start = merged or (current if kb_id not in self._failed else None)
        trusted = start is not None
        start = start or snapshots.latest(kb_dir, generation)
        try:
            fresh = self._bring_up_to_date(kb_id, start, generation, trusted=trusted)
        except Exception:
            previous = current or start
            if previous is None:
                raise
            log.exception("updating the index of knowledge base %s failed; serving the previous snapshot", kb_id)
            self._loaded[kb_id] = previous
            self._failed[kb_id] = time.monotonic()
            return previous
        self._failed.pop(kb_id, None)
        self._loaded[kb_id] = fresh
        snapshots.cleanup(kb_dir, fresh.directory)
        self._maybe_merge(kb_id, fresh)
        return fresh

    def _bring_up_to_date(self, kb_id: int, start: Snapshot | None, generation: int, *, trusted: bool) -> Snapshot:
        if start is None:
            return self._rebuild(kb_id, 0)
        if start.generation == generation and (trusted or not self._incremental(start)):
            return start
        updated = self._apply_changes(kb_id, start) if self._incremental(start) else None
        return updated or self._rebuild(kb_id, start.epoch)

    def _incremental(self, snapshot: Snapshot) -> bool:
        return snapshot.documents is not None and isinstance(self.source, IncrementalChunkSource)

    def _apply_changes(self, kb_id: int, start: Snapshot) -> Snapshot | None:
        """``start`` plus the documents changed since; None when the changes need a full rebuild: the
        generation moved by more than the documents whose version changed (or went back)."""
        if not isinstance(self.source, IncrementalChunkSource) or start.documents is None:
            return None
        generation, documents = self.source.document_versions(kb_id)
        changed = sorted(d for d, version in documents.items() if start.documents.get(d) != version)
        removed = sorted(set(start.documents) - set(documents))
        if generation < start.generation or generation - start.generation > len(changed) + len(removed):
            return None
        if generation == start.generation:  # a snapshot found on disk: valid only if nothing differs
            return None if changed or removed else start
        stale = np.array(changed + removed, dtype=np.int64)
        carried = [p.delete_documents(stale) for p in start.parts]
        return snapshots.publish(
            self._kb_dir(kb_id),
            generation=generation,
            epoch=start.epoch,
            documents=documents,
            carried=[p for p in carried if p.live_count],
            carried_from=start.directory,
            rows=self.source.document_rows(kb_id, changed) if changed else (),
            dimensions=self.dimensions,
        )

    def _rebuild(self, kb_id: int, epoch: int, lock: AbstractContextManager[object] | None = None) -> Snapshot:
        documents: dict[int, str] | None = None
        if isinstance(self.source, IncrementalChunkSource):
            generation, documents = self.source.document_versions(kb_id)
        else:
            generation = self.source.generation(kb_id)
        return snapshots.publish(
            self._kb_dir(kb_id),
            generation=generation,
            epoch=epoch,
            documents=documents,
            rows=self.source.searchable_rows(kb_id),
            dimensions=self.dimensions,
            lock=lock,
        )

    # -- merging -------------------------------------------------------------------------------------
    def _maybe_merge(self, kb_id: int, snapshot: Snapshot) -> None:
        if kb_id in self._merging or not self.merge_policy.wants_merge(snapshot):
            return
        incarnation = self._incarnation.get(kb_id, 0)
        if not self.background_merges:
            self._merge(kb_id, snapshot.epoch + 1, incarnation)
            return
        thread = threading.Thread(
            target=self._merge, args=(kb_id, snapshot.epoch + 1, incarnation), name=f"hiraga-merge-{kb_id}", daemon=True
        )
        self._merging[kb_id] = thread
        thread.start()

    def _merge(self, kb_id: int, epoch: int, incarnation: int) -> None:
        """Rebuild the knowledge base into a new base segment; the next search installs it."""
        try:
            merged = self._rebuild(kb_id, epoch, lock=self._lock)
            with self._lock:
                if self._incarnation.get(kb_id, 0) != incarnation:
                    shutil.rmtree(merged.directory, ignore_errors=True)
                else:
                    self._merged[kb_id] = merged
        except Exception:
            log.exception("merging the index of knowledge base %s failed", kb_id)
        finally:
            with self._lock:
                self._merging.pop(kb_id, None)

    def wait_for_merges(self, timeout: float | None = None) -> None:
        """Wait for the background merges running now (tests, benchmarks, shutdown)."""
        for thread in list(self._merging.values()):
            thread.join(timeout)

    # -- SearchIndex ---------------------------------------------------------------------------------
    def lexical(self, kb_id: int, terms: Sequence[str], limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        return self.snapshot(kb_id).view.lexical(terms, self.bigram_weight, limit, allowed)

    def dense(self, kb_id: int, query: Vector, limit: int, allowed: ChunkFilter) -> list[ScoredChunk]:
        return self.snapshot(kb_id).view.dense(query, limit, allowed)

    def inverse_frequencies(self, kb_id: int, terms: Sequence[str]) -> dict[str, float]:
        return self.snapshot(kb_id).view.inverse_frequencies(terms)

    def invalidate(self, kb_id: int) -> None:
        with self._lock:
            self._loaded.pop(kb_id, None)

    def remove(self, kb_id: int) -> None:
        with self._lock:
            self._incarnation[kb_id] = self._incarnation.get(kb_id, 0) + 1
            self._loaded.pop(kb_id, None)
            self._merged.pop(kb_id, None)
            shutil.rmtree(self._kb_dir(kb_id), ignore_errors=True)

    def _kb_dir(self, kb_id: int) -> Path:
        return self.root / f"kb-{kb_id}"
