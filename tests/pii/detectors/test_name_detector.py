from __future__ import annotations

import pytest

from hiraga.pii.detectors.names import PersonNameDetector


def names(text: str) -> list[str]:
    return sorted({finding.value for finding in PersonNameDetector().detect(text)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("山田太郎様、いつもお世話になっております。", ["山田太郎"]),
        ("佐藤さんと高橋氏、鈴木健一殿に送付", ["佐藤", "鈴木健一", "高橋"]),
        ("出席者：伊藤課長、吉田係長、山本委員", ["伊藤", "吉田", "山本"]),
        ("総務課の斎藤です。", ["斎藤"]),
        ("氏名：渡辺 美咲", ["渡辺 美咲"]),
        ("氏名（自署）：中川 蒼汰", ["中川 蒼汰"]),
        ("申請者：長谷川 結衣", ["長谷川 結衣"]),
        ("佐々木 悠真様", ["佐々木 悠真"]),
    ],
)
def test_names_with_sudachi_tags_and_context(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "皆様、お客様各位",
        "中村区の田中町において",
        "市町村長は、第十二条の規定により届け出なければならない。",
        "担当課長が確認する。",
    ],
)
def test_no_names_in_ordinary_words(text: str) -> None:
    assert names(text) == []


def test_long_text_is_tokenised_in_pieces_with_correct_offsets() -> None:
    filler = "本件について確認いたします。\n" * 3000  # beyond Sudachi's input limit
    text = filler + "山田太郎様"
    findings = PersonNameDetector().detect(text)
    assert [(f.start, f.value) for f in findings] == [(len(filler), "山田太郎")]
    assert text[findings[0].start : findings[0].end] == "山田太郎"


@pytest.mark.parametrize(
    "text",
    [
        "申立人は、審理員の許可を得て",  # Sudachi splits 申+立人 as 姓+名
        "多数人が共同して審査請求をする",
        "都道府県知事又は広島市長若しくは",  # office, not a person
        "本日の議事録です。",
        "庶務係長が確認する。",
    ],
)
def test_statute_words_that_sudachi_misreads_are_not_names(text: str) -> None:
    assert names(text) == []


def test_surnames_that_are_also_common_words_or_places_need_context() -> None:
    assert names("林係長と森様、総務課の小川です") == ["小川", "林", "森"]
    assert names("林の中の小川") == []
