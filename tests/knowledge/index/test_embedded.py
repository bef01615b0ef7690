from __future__ import annotations

from pathlib import Path

import numpy as np

from hiraga.knowledge.index.base import ChunkFilter, vector_to_bytes
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow
from hiraga.knowledge.tokenise import search_terms


class ListSource:
    def __init__(self) -> None:
        self.version = 1
        self.rows: list[IndexRow] = []

    def generation(self, kb_id: int) -> int:
        return self.version

    def searchable_rows(self, kb_id: int) -> list[IndexRow]:
        return list(self.rows)


def row(chunk_id: int, document_id: int, text: str, direction: int) -> IndexRow:
    vector = np.zeros(4, dtype=np.float32)
    vector[direction] = 1.0
    return IndexRow(chunk_id, document_id, search_terms(text), vector_to_bytes(vector))


def test_lexical_and_dense_candidates_with_document_filter(tmp_path: Path) -> None:
    source = ListSource()
    source.rows = [
        row(10, 1, "住民票の写しの交付", 0),
        row(11, 2, "印鑑登録証明書の交付", 1),
        row(12, 2, "税の申告", 2),
    ]
    index = EmbeddedIndex(tmp_path, source, dimensions=4)
    assert [h.chunk_id for h in index.lexical(7, search_terms("住民票"), 5, ChunkFilter())] == [10]
    assert index.lexical(7, search_terms("住民票"), 5, ChunkFilter(frozenset({2}))) == []
    query = np.array([0, 0.6, 0.8, 0], dtype=np.float32)
    assert [h.chunk_id for h in index.dense(7, query, 2, ChunkFilter())] == [12, 11]
    assert [h.chunk_id for h in index.dense(7, query, 5, ChunkFilter(frozenset({1})))] == [10]


def test_a_new_generation_replaces_the_snapshot_and_old_files_go(tmp_path: Path) -> None:
    source = ListSource()
    source.rows = [row(1, 1, "旧い規程", 0)]
    index = EmbeddedIndex(tmp_path, source, dimensions=4)
    assert [h.chunk_id for h in index.lexical(3, search_terms("規程"), 5, ChunkFilter())] == [1]
    source.rows, source.version = [row(2, 1, "新しい規程", 0)], 2
    assert [h.chunk_id for h in index.lexical(3, search_terms("規程"), 5, ChunkFilter())] == [2]
    assert sorted(p.name for p in (tmp_path / "kb-3").iterdir()) == ["g2"]


def test_an_empty_knowledge_base_answers_nothing(tmp_path: Path) -> None:
    index = EmbeddedIndex(tmp_path, ListSource(), dimensions=4)
    assert index.lexical(1, ["x"], 5, ChunkFilter()) == []
    assert index.dense(1, np.ones(4, dtype=np.float32), 5, ChunkFilter()) == []
