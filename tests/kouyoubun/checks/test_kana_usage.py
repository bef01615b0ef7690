from tests.kouyoubun.helpers import covered


def test_formal_nouns_after_a_predicate_are_flagged_with_the_kana_form() -> None:
    text = "申請する事ができる。定める所により届け出る。"
    assert covered(text, "kana") == [("kana.word", "事", "こと"), ("kana.word", "所", "ところ")]


def test_noun_uses_of_the_same_kanji_are_left_alone() -> None:
    assert covered("事の重大性に鑑み、所定の場所で審査する。", "kana") == []


def test_conditional_toki_but_not_a_point_in_time() -> None:
    assert covered("許可を受けた時は、届け出る。", "kana") == [("kana.word", "時", "とき")]
    assert covered("許可を受けた時から起算する。", "kana") == []


def test_auxiliary_verbs_after_te_are_kana() -> None:
    text = "書類を提出して下さい。記録して置かなければならない。"
    assert covered(text, "kana") == [("kana.word", "下さい", "ください"), ("kana.word", "置か", "おか")]


def test_main_verbs_keep_their_kanji() -> None:
    assert covered("会議に行く。物を置く。調査を行って報告する。", "kana") == []


def test_conjunctions_in_kanji_are_flagged() -> None:
    assert covered("但し、この限りでない。", "kana") == [("kana.word", "但し", "ただし")]
