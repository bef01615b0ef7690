"""The metrics on hand-checked examples."""

from __future__ import annotations

import pytest

from hiraga.evaluation.metrics import (
    bootstrap_interval,
    char_f1,
    chrf,
    exact_match,
    numbers_normalised,
    numeric_facts,
    percentile,
)


def test_chrf_is_sacrebleus_sentence_score_in_unit_range() -> None:
    assert chrf("今日は良い天気です", "今日は良い天気です") == pytest.approx(1.0)
    close, far = chrf("今日はよい天気です", "今日は良い天気です"), chrf("明日は雨", "今日は良い天気です")
    assert 0.0 <= far < close < 1.0


def test_exact_match_ignores_width_punctuation_and_spaces() -> None:
    assert exact_match("ＡＢＣ株式会社。", ["ABC株式会社"]) == 1.0
    assert exact_match("奈良県", ["奈良"]) == 0.0


def test_char_f1_takes_the_best_reference() -> None:
    # 奈良県 vs 奈良: precision 2/3, recall 1 → F1 0.8
    assert char_f1("奈良県", ["京都", "奈良"]) == pytest.approx(0.8)
    assert char_f1("", ["奈良"]) == 0.0


def test_numbers_normalised_turns_kanji_numerals_widths_and_wareki_into_one_form() -> None:
    text = numbers_normalised("令和７年４月１日、第三十六条の二、金一万二千円、１,２００人、一般")
    assert text == "2025年4月1日、第36条の2、金12000円、1200人、一般"


def test_numeric_facts_keep_units_and_article_references() -> None:
    assert numeric_facts("平成元年に第五条第二項により3万円") == ["1989年", "第5条", "第2項", "30000円"]


def test_bootstrap_interval_contains_the_mean_and_is_reproducible() -> None:
    values = [1.0] * 30 + [0.0] * 10
    low, high = bootstrap_interval(values, seed=3)
    assert low < 0.75 < high
    assert (low, high) == bootstrap_interval(values, seed=3)
    assert bootstrap_interval([0.5]) == (0.5, 0.5)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
