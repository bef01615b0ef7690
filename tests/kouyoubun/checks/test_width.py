from tests.kouyoubun.helpers import covered


def test_full_width_digits_with_offsets_after_full_width_text() -> None:
    text = "令和６年４月１日から１２，５００円とする。"
    assert covered(text, "digits") == [
        ("digits.full_width", "６", "6"),
        ("digits.full_width", "４", "4"),
        ("digits.full_width", "１", "1"),
        ("digits.full_width", "１２，５００", "12,500"),
    ]


def test_half_width_digits_and_kanji_numerals_pass() -> None:
    assert covered("令和6年4月1日から第十二条を適用する。", "digits") == []


def test_full_width_latin_and_half_width_kana() -> None:
    text = "ＩＣＴを活用し、ﾃﾞｰﾀを共有する。"
    assert covered(text, "width") == [("width.latin", "ＩＣＴ", "ICT"), ("width.kana", "ﾃﾞｰﾀ", "データ")]
