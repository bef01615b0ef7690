from __future__ import annotations

import math

import pytest

from hiraga.knowledge.index.bm25 import Bm25Field

DOCS = [["申請", "窓口", "申請"], ["窓口", "時間"], ["税", "申告", "期限", "窓口"]]


def expected(term: str, doc: list[str], k1: float = 1.2, b: float = 0.75) -> float:
    n, df = len(DOCS), sum(term in d for d in DOCS)
    average = sum(map(len, DOCS)) / n
    tf = doc.count(term)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / average))


def test_scores_match_the_okapi_formula() -> None:
    field = Bm25Field.build(DOCS)
    scores = field.scores(["申請", "窓口"])
    for i, doc in enumerate(DOCS):
        assert scores[i] == pytest.approx(expected("申請", doc) + expected("窓口", doc), rel=1e-5)


def test_unknown_terms_score_nothing_and_repeats_count() -> None:
    field = Bm25Field.build(DOCS)
    assert not field.scores(["存在しない"]).any()
    assert field.scores(["時間", "時間"])[1] == pytest.approx(2 * field.scores(["時間"])[1])
