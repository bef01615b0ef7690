from __future__ import annotations

import pytest

from hiraga.pii.detectors.name_labels import labelled_names, strip_honorifics
from hiraga.pii.normalize import normalize


def labelled(text: str) -> list[str]:
    return [finding.value for finding in labelled_names("person_name", normalize(text), text)]


def test_a_label_after_a_label_is_not_the_value() -> None:
    assert labelled("依頼者 氏名：土屋 浩二") == ["土屋 浩二"]


def test_the_honorific_after_a_spaced_katakana_name_is_left_out() -> None:
    assert labelled("名義 ハセベ ユキエ 様") == ["ハセベ ユキエ"]


@pytest.mark.parametrize(
    "text",
    [
        "担当：総務課",
        "担当：市民課窓口",
        "氏名：別紙のとおり",
        "相談者：本人",
        "名義 同上",
        "担当：システム課",
        "担当：係長",
    ],
)
def test_values_that_fill_a_label_but_are_not_names(text: str) -> None:
    assert labelled(text) == []


def test_strip_honorifics_removes_titles_and_honorifics_repeatedly() -> None:
    assert strip_honorifics("土屋課長様") == "土屋"
    assert strip_honorifics("様") == "様"  # nothing left would not be a name; the caller rejects it
