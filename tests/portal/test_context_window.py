"""Fitting prompts into the window: what is kept, what is cut, and what the user is told."""

from __future__ import annotations

from hiraga.gateway.protocol import estimate_tokens
from hiraga.portal.context_window import Turn, cut_to_tokens, fit_turns, input_budget, share_budget


def test_cut_keeps_the_longest_prefix_that_fits() -> None:
    text = "あいうえお" * 10 + "abcd" * 10
    cut = cut_to_tokens(text, 30)
    assert text.startswith(cut) and estimate_tokens(cut) <= 30 and len(cut) == 30
    assert cut_to_tokens(text, 10_000) == text
    assert cut_to_tokens(text, 0) == ""


def test_older_turns_are_dropped_first_and_the_user_is_told() -> None:
    turns = [Turn("user", "古い質問" * 50), Turn("assistant", "古い回答" * 50), Turn("user", "新しい質問")]
    fitted = fit_turns("システム", turns, budget=300)
    assert [m["content"] for m in fitted.messages] == ["システム", "古い回答" * 50, "新しい質問"]
    assert fitted.dropped_turns == 1
    assert any("古いやり取り 1 件" in n for n in fitted.notices)


def test_an_overlong_question_is_cut_with_a_notice() -> None:
    fitted = fit_turns("", [Turn("user", "長" * 5000)], budget=1000)
    assert len(fitted.messages) == 1
    assert estimate_tokens(fitted.messages[0]["content"]) <= 1000
    assert "5,000 文字のうち" in fitted.notices[0]


def test_budget_reserves_room_for_the_answer() -> None:
    assert input_budget(4096, 1024) < 4096 - 1024
    assert input_budget(None, 512) > 0


def test_short_texts_are_kept_whole_and_long_ones_share_the_rest() -> None:
    shares = share_budget(["短い", "長" * 1000, "長" * 1000], 1002)
    assert shares[0] == 2 and shares[1] == shares[2] == 500
