"""The incremental embedded index scores exactly like a full rebuild, whatever the history of changes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from hiraga.knowledge.index import snapshots
from hiraga.knowledge.index.base import ChunkFilter
from hiraga.knowledge.index.bm25 import Bm25Field
from hiraga.knowledge.index.embedded import EmbeddedIndex

from .incremental_support import (
    DIMENSIONS,
    KB,
    NEVER_MERGE,
    QUERIES,
    DocumentSource,
    as_dict,
    assert_same_results,
    query_vectors,
    rebuilt,
    terms_of,
)


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "DURABLE", False)  # hundreds of snapshots: flushing them is not the point here


def incremental(tmp_path: Path, source: DocumentSource) -> EmbeddedIndex:
    return EmbeddedIndex(tmp_path / "incremental", source, dimensions=DIMENSIONS, merge_policy=NEVER_MERGE)


@pytest.mark.parametrize("reuse_ids", [False, True], ids=["fresh-ids", "reused-ids"])
@pytest.mark.parametrize("seed", range(5))
def test_random_adds_replacements_and_deletes_score_like_a_full_rebuild(
    tmp_path: Path, seed: int, reuse_ids: bool
) -> None:
    source = DocumentSource(seed, reuse_ids=reuse_ids)
    for document_id in range(1, 6):
        source.put(document_id)
    index = incremental(tmp_path, source)
    index.snapshot(KB)
    rng = random.Random(seed)
    most_segments = 1
    for _ in range(15):
        for _ in range(rng.choice([1, 1, 1, 2, 3])):  # sometimes several changes between two searches
            source.random_change()
        reference = rebuilt(tmp_path, source)
        assert_same_results(index, reference)
        some = frozenset(rng.sample(sorted(source.documents), k=min(2, len(source.documents))))
        assert_same_results(index, reference, ChunkFilter(some))
        most_segments = max(most_segments, len(index.snapshot(KB).parts))
    assert source.delta_reads > 0 and most_segments > 2  # the deltas were really used


def test_one_change_per_search_never_rebuilds(tmp_path: Path) -> None:
    source = DocumentSource(7)
    for document_id in range(1, 4):
        source.put(document_id)
    index = incremental(tmp_path, source)
    index.snapshot(KB)
    for change in (lambda: source.put(4), lambda: source.put(2), lambda: source.delete(1), lambda: source.put(5)):
        change()
        assert_same_results(index, rebuilt(tmp_path, source))
    assert source.full_reads == 1 and source.delta_reads == 3  # a delete reads no rows
    assert [len(p.deleted) > 0 for p in index.snapshot(KB).parts][:1] == [True]


def test_tombstoned_chunks_are_never_returned(tmp_path: Path) -> None:
    source = DocumentSource(3)
    for document_id in range(1, 5):
        source.put(document_id, chunks=4)
    index = incremental(tmp_path, source)
    index.snapshot(KB)
    gone = {r.chunk_id for r in source.documents[2][1]} | {r.chunk_id for r in source.documents[3][1]}
    source.delete(2)
    index.snapshot(KB)
    source.put(3)  # replaced: its old chunks are tombstones, its new ones live in a delta
    live = {r.chunk_id for r in source.rows()}
    for vector in query_vectors(1):
        assert {h.chunk_id for h in index.dense(KB, vector, 1000, ChunkFilter())} == live
    for query in QUERIES:
        assert not {h.chunk_id for h in index.lexical(KB, list(terms_of(query)), 1000, ChunkFilter())} & gone
    assert index.snapshot(KB).size == len(live)


def test_scores_equal_the_single_snapshot_bm25_of_before(tmp_path: Path) -> None:
    source = DocumentSource(11)
    for document_id in range(1, 7):
        source.put(document_id)
    index = incremental(tmp_path, source)
    index.snapshot(KB)
    source.delete(2)
    source.put(3)
    rows = source.rows()
    words = Bm25Field.build([[t for t in r.terms if not t.startswith("#")] for r in rows])
    bigrams = Bm25Field.build([[t for t in r.terms if t.startswith("#")] for r in rows])
    for query in QUERIES:
        terms = list(terms_of(query))
        before = words.scores([t for t in terms if not t.startswith("#")])
        before += 0.5 * bigrams.scores([t for t in terms if t.startswith("#")])
        expected = {rows[i].chunk_id: float(s) for i, s in enumerate(before) if s > 0}
        got = as_dict(index.lexical(KB, terms, 1000, ChunkFilter()))
        assert got.keys() == expected.keys()
        assert np.allclose([got[c] for c in expected], list(expected.values()), rtol=1e-5)


def test_a_change_no_document_version_shows_rebuilds_everything(tmp_path: Path) -> None:
    source = DocumentSource(5)
    for document_id in range(1, 5):
        source.put(document_id)
    index = incremental(tmp_path, source)
    index.snapshot(KB)
    source.rewrite_in_place()  # like `hiraga kb reindex`: same ids and versions, new terms and vectors
    assert_same_results(index, rebuilt(tmp_path, source))
    assert source.full_reads == 2 and source.delta_reads == 0
    source.put(9)
    source.delete(9)  # two generations, and no version differs: cannot be a delta either
    assert_same_results(index, rebuilt(tmp_path, source))
    assert source.full_reads == 3


def test_an_index_reopened_from_disk_continues_incrementally(tmp_path: Path) -> None:
    source = DocumentSource(2)
    for document_id in range(1, 4):
        source.put(document_id)
    incremental(tmp_path, source).snapshot(KB)
    source.put(2)
    source.put(8)
    reopened = incremental(tmp_path, source)  # a restarted process
    assert_same_results(reopened, rebuilt(tmp_path, source))
    assert source.full_reads == 1 and source.delta_reads == 1
