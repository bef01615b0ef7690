"""表記: か月・か所, ほか and the small っ."""

from __future__ import annotations

import pytest
from tests.kouyoubun.helpers import covered


@pytest.mark.parametrize(
    "text", ["契約期間は3ヶ月とする。", "契約期間は3ケ月とする。", "全国7ヵ所で行う。", "三カ年計画"]
)
def test_counters_are_written_with_hiragana_ka(text: str) -> None:
    found = covered(text, "notation")
    assert [(rule, suggestion) for rule, _, suggestion in found] == [("notation.counter_ka", "か")]


def test_katakana_ke_elsewhere_and_hiragana_ka_pass() -> None:
    assert covered("3か月ごとにケースを見直す。箇条書きにする。", "notation") == []


def test_hoka_in_kana_but_outside_stays_soto() -> None:
    assert covered("その外の事項は別に定める。申請の外、届出も要る。", "notation") == [
        ("notation.hoka", "外", "ほか"),
        ("notation.hoka", "外", "ほか"),
    ]
    assert covered("建物の外に出る。", "notation") == []


def test_old_large_tsu() -> None:
    found = covered("申請があつたときは、したがつて受理する。許可しなかつた。", "notation")
    assert found == [("notation.large_tsu", "つ", "っ")] * 3
    assert covered("かつては栄えた。五つである。", "notation") == []


def test_conditional_toki_is_found_once_by_the_kana_rule() -> None:
    assert covered("申請した時は、これを受理する。") == [("kana.word", "時", "とき")]
