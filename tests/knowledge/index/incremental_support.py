"""An in-memory ``IncrementalChunkSource`` that behaves like the database: documents with versions,
chunk ids from a counter (optionally reused, as SQLite reuses the highest rowids after a delete),
and a generation bumped once per document change — plus a reference full rebuild to compare with."""

from __future__ import annotations

import functools
import random
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np

from hiraga.knowledge.index.base import ChunkFilter, ScoredChunk, vector_from_bytes, vector_to_bytes
from hiraga.knowledge.index.embedded import EmbeddedIndex, IndexRow, MergePolicy
from hiraga.knowledge.tokenise import search_terms

DIMENSIONS = 8
KB = 1
NEVER_MERGE = MergePolicy(max_deltas=10_000, max_churn=float("inf"), min_churn=10**9)

SENTENCES = [
    "住民票の写しは市民課の窓口で交付します",
    "印鑑登録証明書の交付には登録証が必要です",
    "市県民税の申告期限は三月十五日です",
    "年次有給休暇は前年度の出勤率が八割以上の職員に付与されます",
    "燃えるごみは月曜日と木曜日の朝八時までに出してください",
    "粗大ごみの収集は事前の申込みが必要です",
    "児童手当の認定請求は出生の翌日から十五日以内に行います",
    "国民健康保険の加入と脱退の届出は十四日以内です",
    "行政手続法は処分の基準を定めて公にすることを求めています",
    "申請に対する処分の審査基準はできる限り具体的に定めます",
    "不利益処分をする場合には聴聞の手続を経なければなりません",
    "情報公開請求の手数料は一件につき三百円です",
    "窓口の受付時間は平日の午前八時半から午後五時までです",
    "転入届は新しい住所に住み始めてから十四日以内に提出します",
    "介護保険の要介護認定の申請は本人または家族が行います",
    "水道の使用開始は三日前までに水道局へ連絡してください",
]
QUERIES = [
    "住民票の交付",
    "申告期限はいつ",
    "ごみの収集日",
    "処分の審査基準",
    "十四日以内の届出",
    "窓口の受付時間",
    "有給休暇の付与",
    "存在しない語彙",
]


@functools.cache
def terms_of(text: str) -> tuple[str, ...]:
    return tuple(search_terms(text))


class DocumentSource:
    def __init__(self, seed: int = 0, *, reuse_ids: bool = False) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self.reuse_ids = reuse_ids
        self.version = 0
        self.documents: dict[int, tuple[str, list[IndexRow]]] = {}
        self.full_reads = 0
        self.delta_reads = 0
        self._edits = 0
        self._highest = 0

    # -- the ChunkSource protocol ------------------------------------------------------------------
    def generation(self, kb_id: int) -> int:
        return self.version

    def searchable_rows(self, kb_id: int) -> Iterator[IndexRow]:
        self.full_reads += 1
        yield from self.rows()

    def document_versions(self, kb_id: int) -> tuple[int, dict[int, str]]:
        return self.version, {d: v for d, (v, _) in self.documents.items()}

    def document_rows(self, kb_id: int, document_ids: Collection[int]) -> Iterator[IndexRow]:
        self.delta_reads += 1
        wanted = set(document_ids)
        yield from (r for r in self.rows() if r.document_id in wanted)

    # -- changes -------------------------------------------------------------------------------------
    def rows(self) -> list[IndexRow]:
        return sorted((r for _, rows in self.documents.values() for r in rows), key=lambda r: r.chunk_id)

    def _fresh_ids(self, count: int) -> list[int]:
        used = max((r.chunk_id for _, rows in self.documents.values() for r in rows), default=0)
        start = used + 1 if self.reuse_ids else max(self._highest, used) + 1
        self._highest = start + count - 1
        return list(range(start, start + count))

    def put(self, document_id: int, chunks: int | None = None) -> None:
        """Add a document, or replace its chunks with new ones (a new version)."""
        self.documents.pop(document_id, None)
        rows: list[IndexRow] = []
        for chunk_id in self._fresh_ids(chunks or self.random.randint(1, 6)):
            text = "。".join(self.random.sample(SENTENCES, self.random.randint(1, 3)))
            vector = np.array([self.random.gauss(0, 1) for _ in range(DIMENSIONS)], dtype=np.float32)
            rows.append(IndexRow(chunk_id, document_id, terms_of(text), vector_to_bytes(vector)))
        self._edits += 1
        self.documents[document_id] = (f"s{self.seed}-v{self._edits}", rows)  # like a content hash
        self.version += 1

    def delete(self, document_id: int) -> None:
        del self.documents[document_id]
        self.version += 1

    def rewrite_in_place(self) -> None:
        """What ``hiraga kb reindex`` does: new terms and vectors, same chunk ids, same versions."""
        for document_id, (version, rows) in list(self.documents.items()):
            changed = [IndexRow(r.chunk_id, r.document_id, r.terms[::2], _negated(r.vector)) for r in rows]
            self.documents[document_id] = (version, changed)
        self.version += 1

    def random_change(self) -> None:
        existing = sorted(self.documents)
        roll = self.random.random()
        if existing and roll < 0.25:
            self.delete(self.random.choice(existing))
        elif existing and roll < 0.55:
            self.put(self.random.choice(existing))
        else:
            self.put(max(existing, default=0) + 1)


def _negated(vector: bytes | None) -> bytes | None:
    return None if vector is None else vector_to_bytes(-vector_from_bytes(vector))


class FullRebuildSource:
    """The same chunks without document versions: the index can only rebuild from scratch."""

    def __init__(self, inner: DocumentSource) -> None:
        self.inner = inner

    def generation(self, kb_id: int) -> int:
        return self.inner.version

    def searchable_rows(self, kb_id: int) -> list[IndexRow]:
        return self.inner.rows()


def rebuilt(tmp_path: Path, source: DocumentSource) -> EmbeddedIndex:
    root = tmp_path / f"reference-{source.version}-{random.random()}"
    return EmbeddedIndex(root, FullRebuildSource(source), dimensions=DIMENSIONS)


def query_vectors(seed: int, count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(DIMENSIONS).astype(np.float32) for _ in range(count)]


def as_dict(hits: list[ScoredChunk]) -> dict[int, float]:
    return {h.chunk_id: h.score for h in hits}


EVERYTHING = ChunkFilter()


def assert_same_results(index: EmbeddedIndex, reference: EmbeddedIndex, allowed: ChunkFilter = EVERYTHING) -> None:
    """Every lexical and dense score equal (np.allclose), the same chunks, the same top-k order."""
    for query in QUERIES:
        terms = list(terms_of(query))
        got, want = index.lexical(KB, terms, 10_000, allowed), reference.lexical(KB, terms, 10_000, allowed)
        assert_equal_hits(got, want)
        assert [h.chunk_id for h in index.lexical(KB, terms, 5, allowed)] == [h.chunk_id for h in want[:5]]
        assert index.inverse_frequencies(KB, terms) == reference.inverse_frequencies(KB, terms)
    for vector in query_vectors(len(QUERIES)):
        got, want = index.dense(KB, vector, 10_000, allowed), reference.dense(KB, vector, 10_000, allowed)
        assert_equal_hits(got, want)
        assert [h.chunk_id for h in index.dense(KB, vector, 5, allowed)] == [h.chunk_id for h in want[:5]]


def assert_equal_hits(got: list[ScoredChunk], want: list[ScoredChunk]) -> None:
    """Same chunks in the same order, scores equal to float32 precision: the scores are float32 sums
    of terms near 1 added in another order, so a small score may differ by a few units in the last
    place of those terms (3e-7 seen on one machine), not of itself."""
    assert [h.chunk_id for h in got] == [h.chunk_id for h in want]
    assert np.allclose([h.score for h in got], [h.score for h in want], rtol=1e-6, atol=1e-6)
