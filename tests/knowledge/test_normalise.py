from __future__ import annotations

from hiraga.knowledge.normalise import normalise_query, normalise_text


def test_full_width_ascii_and_half_width_katakana_are_folded() -> None:
    assert normalise_text("ＡＢＣ１２３ ｶﾀｶﾅ") == "ABC123 カタカナ"


def test_circled_numbers_keep_their_form() -> None:
    assert normalise_text("手順①を確認し、②へ進む（ＯＫ）") == "手順①を確認し、②へ進む(OK)"


def test_control_and_zero_width_characters_are_removed_and_spaces_collapsed() -> None:
    assert normalise_text("申\u200b請\x07　　書\r\n\r\n\r\n\r\n次") == "申請 書\n\n次"


def test_query_is_one_line() -> None:
    assert normalise_query("  個人情報\n 第２７条？ ") == "個人情報 第27条?"
