"""Merging deltas into a new base, and what a failure or a crash while writing leaves behind."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from hiraga.knowledge.index import snapshots
from hiraga.knowledge.index.base import ChunkFilter
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow, MergePolicy
from hiraga.knowledge.index.segments import Segment

from .incremental_support import (
    DIMENSIONS,
    KB,
    NEVER_MERGE,
    DocumentSource,
    assert_same_results,
    rebuilt,
)

BY_COUNT = MergePolicy(max_deltas=2, max_churn=float("inf"), min_churn=10**9)


def published(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "incremental" / f"kb-{KB}").iterdir())


def found(index: EmbeddedIndex, document_id: int, source: DocumentSource) -> bool:
    """Whether a search for the document's first chunk's words returns one of its chunks."""
    first = source.documents[document_id][1][0]
    hits = index.lexical(KB, list(first.terms), 1000, ChunkFilter())
    return first.chunk_id in {h.chunk_id for h in hits}


def started(
    tmp_path: Path, source: DocumentSource, policy: MergePolicy, *, background_merges: bool = True
) -> EmbeddedIndex:
    for document_id in range(1, 5):
        source.put(document_id, chunks=3)
    index = EmbeddedIndex(
        tmp_path / "incremental",
        source,
        dimensions=DIMENSIONS,
        merge_policy=policy,
        background_merges=background_merges,
        retry_after_failure=0,
    )
    index.snapshot(KB)
    return index


class PausingSource(DocumentSource):
    """Full reads wait for ``release``: a merge that is still running while documents change."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.release = threading.Event()
        self.release.set()
        self.reading = threading.Event()

    def searchable_rows(self, kb_id: int) -> Iterator[IndexRow]:
        self.reading.set()
        self.release.wait(30)
        return super().searchable_rows(kb_id)


def test_deltas_beyond_the_limit_merge_into_one_base_and_nothing_changes(tmp_path: Path) -> None:
    source = PausingSource(21)
    index = started(tmp_path, source, BY_COUNT)
    source.release.clear()
    for document_id in (5, 2, 6):  # three deltas > max_deltas=2: a merge starts in the background
        source.put(document_id)
        assert_same_results(index, rebuilt(tmp_path, source))
    assert source.reading.wait(30)
    before = index.snapshot(KB)  # served while the merge runs
    assert len(before.parts) == 4 and before.epoch == 0
    source.release.set()
    index.wait_for_merges()
    merged = index.snapshot(KB)  # the next search installs the merged snapshot
    assert len(merged.parts) == 1 and not len(merged.parts[0].deleted) and merged.epoch == 1
    assert_same_results(index, rebuilt(tmp_path, source))
    assert published(tmp_path) == [f"g{source.version}-1"]  # the older snapshots are gone
    assert source.full_reads == 2


def test_churn_beyond_a_tenth_of_the_base_merges(tmp_path: Path) -> None:
    source = DocumentSource(22)
    index = started(tmp_path, source, MergePolicy(max_deltas=50, max_churn=0.1, min_churn=0), background_merges=False)
    source.delete(1)  # 3 of 12 chunks deleted: churn 25 % of the base
    assert_same_results(index, rebuilt(tmp_path, source))  # this search merges (synchronously here)...
    assert len(index.snapshot(KB).parts) == 1  # ...and the next installs the merge
    assert not len(index.snapshot(KB).parts[0].deleted)
    assert_same_results(index, rebuilt(tmp_path, source))


def test_changes_made_while_a_merge_runs_are_applied_on_top_of_it(tmp_path: Path) -> None:
    source = PausingSource(23)
    index = started(tmp_path, source, BY_COUNT)
    source.release.clear()
    for document_id in (5, 6, 7):
        source.put(document_id)
        index.snapshot(KB)
    assert source.reading.wait(30)  # the merge read the versions and waits before reading the rows
    source.put(8)  # committed after the merge read the versions, before it reads the rows
    assert_same_results(index, rebuilt(tmp_path, source))  # served by deltas meanwhile
    source.delete(2)
    assert_same_results(index, rebuilt(tmp_path, source))
    source.release.set()
    index.wait_for_merges()
    assert_same_results(index, rebuilt(tmp_path, source))
    assert index.snapshot(KB).epoch == 1 and len(index.snapshot(KB).parts) == 2  # the merge + one delta


def test_a_failed_delta_write_keeps_the_previous_snapshot_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    source = DocumentSource(24)
    index = started(tmp_path, source, NEVER_MERGE)
    before = published(tmp_path)
    write = Segment.write

    def crash(directory: Path, rows: Collection[IndexRow], dimensions: int) -> int:
        (directory / "partial").mkdir(parents=True)  # something written before the failure
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Segment, "write", staticmethod(crash))
    source.put(5)
    with caplog.at_level(logging.ERROR, "hiraga.knowledge.index"):
        assert not found(index, 5, source)  # the previous snapshot answers
    assert "serving the previous snapshot" in caplog.text
    assert published(tmp_path) == before  # nothing half-written, nothing published
    assert index.snapshot(KB).generation == source.version - 1
    fresh = EmbeddedIndex(tmp_path / "incremental", source, dimensions=DIMENSIONS, merge_policy=NEVER_MERGE)
    assert not found(fresh, 5, source)  # a restarted process reads the same complete snapshot
    monkeypatch.setattr(Segment, "write", staticmethod(write))
    assert found(index, 5, source)  # the next search retries
    assert_same_results(index, rebuilt(tmp_path, source))


def test_a_crash_leaves_only_complete_snapshots_to_read(tmp_path: Path) -> None:
    source = DocumentSource(25)
    started(tmp_path, source, NEVER_MERGE)
    kb_dir = tmp_path / "incremental" / f"kb-{KB}"
    dead = kb_dir / ".tmp-99999999-abc"  # staging of a process that died mid-write
    (dead / "s9-x").mkdir(parents=True)
    (dead / "s9-x" / "chunk_ids.npy").write_bytes(b"\x93NUMPY")
    source.put(5)
    torn = kb_dir / f"g{source.version}"  # a published name whose files were lost (power cut)
    torn.mkdir()
    (torn / "meta.json").write_text("{", encoding="utf-8")
    reopened = EmbeddedIndex(tmp_path / "incremental", source, dimensions=DIMENSIONS, merge_policy=NEVER_MERGE)
    assert found(reopened, 5, source)
    assert_same_results(reopened, rebuilt(tmp_path, source))
    assert published(tmp_path) == [f"g{source.version}"]  # the torn and the abandoned ones are gone
    assert source.full_reads == 1  # the previous complete snapshot was the start, not a rebuild


def test_a_snapshot_of_the_previous_format_is_rebuilt(tmp_path: Path) -> None:
    source = DocumentSource(26)
    source.put(1)
    old = tmp_path / "incremental" / f"kb-{KB}" / f"g{source.version}"
    old.mkdir(parents=True)
    (old / "meta.json").write_text(json.dumps({"size": 0, "dimensions": DIMENSIONS}), encoding="utf-8")
    (old.parent / f"g{source.version}.building-140234").mkdir()  # its staging, left by a crash
    index = EmbeddedIndex(tmp_path / "incremental", source, dimensions=DIMENSIONS)
    assert found(index, 1, source)
    assert json.loads((old / "meta.json").read_text(encoding="utf-8"))["format"] == snapshots.FORMAT
    assert published(tmp_path) == [old.name]


def test_removing_a_knowledge_base_discards_its_files_and_a_late_merge(tmp_path: Path) -> None:
    source = PausingSource(27)
    index = started(tmp_path, source, BY_COUNT)
    source.release.clear()
    for document_id in (5, 6, 7):
        source.put(document_id)
        index.snapshot(KB)
    assert source.reading.wait(30)
    index.remove(KB)
    source.release.set()
    index.wait_for_merges()
    kb_dir = tmp_path / "incremental" / f"kb-{KB}"
    assert not kb_dir.exists() or not [p for p in kb_dir.iterdir() if snapshots.key_of(p.name)]
    assert found(index, 5, source)  # searching again builds afresh


def test_a_snapshot_on_disk_that_the_database_does_not_match_is_not_served(tmp_path: Path) -> None:
    first = DocumentSource(28)
    started(tmp_path, first, NEVER_MERGE)
    restored = DocumentSource(29)  # e.g. another database restored under the same data directory
    for document_id in range(1, 5):
        restored.put(document_id, chunks=2)
    assert restored.version == first.version
    reopened = EmbeddedIndex(tmp_path / "incremental", restored, dimensions=DIMENSIONS, merge_policy=NEVER_MERGE)
    assert_same_results(reopened, rebuilt(tmp_path, restored))
    assert restored.full_reads == 1


def test_files_lost_under_a_served_snapshot_are_recovered_from_the_database(tmp_path: Path) -> None:
    source = DocumentSource(30)
    index = started(tmp_path, source, NEVER_MERGE)
    served = index.snapshot(KB).directory
    for segment in [p for p in served.iterdir() if p.is_dir()]:
        shutil.rmtree(segment)  # someone cleaned the data directory by hand
    source.put(5)
    assert not found(index, 5, source)  # the delta cannot link the lost files: the old answers stay
    assert found(index, 5, source)  # the next search starts from what is on disk: nothing, so it rebuilds
    assert_same_results(index, rebuilt(tmp_path, source))
    assert source.full_reads == 2


def test_after_a_failure_searches_do_not_retry_until_the_pause_is_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = DocumentSource(31)
    index = started(tmp_path, source, NEVER_MERGE)
    index.retry_after_failure = 3600
    attempts: list[Path] = []

    def crash(directory: Path, rows: Collection[IndexRow], dimensions: int) -> int:
        attempts.append(directory)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Segment, "write", staticmethod(crash))
    source.put(5)
    for _ in range(3):
        assert not found(index, 5, source)
    assert len(attempts) == 1
    index.retry_after_failure = 0
    monkeypatch.undo()
    assert found(index, 5, source)
