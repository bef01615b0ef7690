"""The order a rerank reply gives (``hiraga.knowledge.reranking.order_of``)."""

from __future__ import annotations

import pytest

from hiraga.knowledge.reranking import order_of


def test_highest_score_first_and_unscored_documents_keep_their_place_after() -> None:
    reply = {"results": [{"index": 2, "relevance_score": 0.1}, {"index": 3, "relevance_score": 0.9}]}
    assert order_of(reply, 5) == [3, 2, 0, 1, 4]  # a top_n upstream scored two of five


def test_equal_scores_keep_the_given_order() -> None:
    reply = {"results": [{"index": i, "relevance_score": 0.5} for i in (2, 0, 1)]}
    assert order_of(reply, 3) == [0, 1, 2]


@pytest.mark.parametrize(
    "results",
    [
        [{"index": 3, "relevance_score": 1.0}],
        [{"index": -1, "relevance_score": 1.0}],
        [{"index": 0, "relevance_score": 1.0}, {"index": 0, "relevance_score": 0.5}],
        [{"index": "0", "relevance_score": 1.0}],
    ],
)
def test_an_index_out_of_range_or_twice_is_refused(results: list[dict[str, object]]) -> None:
    with pytest.raises(ValueError):
        order_of({"results": results}, 3)


def test_a_reply_without_scores_is_refused() -> None:
    with pytest.raises((KeyError, ValueError, TypeError)):
        order_of({"results": [{"index": 0}]}, 2)
    with pytest.raises((KeyError, ValueError, TypeError)):
        order_of({"results": [{"index": 0, "relevance_score": "high"}]}, 2)
