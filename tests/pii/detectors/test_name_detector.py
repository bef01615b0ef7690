from __future__ import annotations

import pytest

from hiraga.pii.detectors.names import PersonNameDetector
from hiraga.pii.scan import resolve_overlaps
from shared_data import shared_data


def names(text: str) -> list[str]:
    """The names masking would replace (overlapping findings resolved as ``scan`` does)."""
    return sorted({finding.value for finding in resolve_overlaps(PersonNameDetector().detect(text))})


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # issue 13 item 8: katakana account-holder names (half-width as bank forms print them, 中黒, no space)
        ("振込先：ゆうちょ銀行 〇一八支店 普通 7654321 口座名義人：ﾂﾂﾐ ｱﾔﾈ", ["ﾂﾂﾐ ｱﾔﾈ"]),
        ("振込先 横浜銀行 県庁支店 当座 1122334 名義 ハセベ・ユキエ", ["ハセベ・ユキエ"]),
        ("口座名義：モリオカケンジ", ["モリオカケンジ"]),
        # 氏名： followed by a katakana name
        ("氏名：ツツミ　アヤネ", ["ツツミ\u3000アヤネ"]),
        ("氏名（フリガナ）：ﾊｾﾍﾞ ﾕｷｴ", ["ﾊｾﾍﾞ ﾕｷｴ"]),
        # kanji names without an honorific after role labels …
        ("相談者：宇野", ["宇野"]),
        ("対応職員：五十嵐", ["五十嵐"]),
        ("相談者：大橋忠", ["大橋忠"]),
        # … and after a role phrase
        ("担当の土屋より折り返しご連絡します。", ["土屋"]),
        ("担当の小松が対応しました。", ["小松"]),
        ("対応職員の岡崎守が説明した。", ["岡崎守"]),
        # a one-character given name, with and without context
        ("大橋忠が来庁した。", ["大橋忠"]),
        # katakana full names before an honorific (unknown to the dictionary, or written with 中黒)
        ("ツツミ・アヤネ様の委任状", ["ツツミ・アヤネ"]),
        ("スズキケンタ殿", ["スズキケンタ"]),  # スズキ is a katakana proper noun, not tagged 人名
        # a one-kanji surname Sudachi reads as a common noun, written apart from the given name
        ("丘 光明様の申請", ["丘 光明"]),
    ],
)
def test_names_in_contexts_missed_before(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "担当の係長が確認する。",
        "担当の職員が確認する。",
        "担当の窓口へお越しください。",
        "クライアント様、ユーザー様",
        "法律（以下「新行労法」という。）",  # Sudachi: 新行 (姓) + 労 (名) run into 法
    ],
)
def test_role_phrases_and_katakana_words_that_are_not_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("氏名：土屋 浩二様", ["土屋 浩二"]),
        ("申請者：宇野さん", ["宇野"]),
        ("担当：小松係長", ["小松"]),
    ],
)
def test_the_honorific_is_not_part_of_a_labelled_name(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize("text", ["担当：総務課", "担当：市民課窓口", "氏名：別紙のとおり"])
def test_units_and_placeholders_after_a_label_are_not_names(text: str) -> None:
    assert names(text) == []


STATUTE = ("egov-law-text", "322AC0000000120_20250701_507AC0000000043.md")  # 国家公務員法


def test_no_person_names_in_a_statute_slice() -> None:
    """Statutes name no private person: 57 k characters of 国家公務員法 (附則 included) give no finding."""
    text = shared_data(*STATUTE).read_text(encoding="utf-8")[60_000:]
    assert [text[f.start - 8 : f.end + 4] for f in PersonNameDetector().detect(text)] == []
