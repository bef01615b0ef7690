from tests.kouyoubun.helpers import covered


def test_narabini_without_oyobi_is_a_level_error() -> None:
    assert covered("国並びに地方公共団体は、協力する。", "conjunction") == [("conjunction.level", "並びに", "及び")]


def test_two_levels_used_correctly_pass() -> None:
    assert covered("国及び地方公共団体並びに事業者は、協力する。", "conjunction") == []
    assert covered("申請若しくは届出又は報告をする。", "conjunction") == []


def test_moshikuwa_without_mataha() -> None:
    assert covered("申請若しくは届出をする。", "conjunction") == [("conjunction.level", "若しくは", "又は")]


def test_repeated_conjunction_in_a_flat_list() -> None:
    assert covered("国及び県及び市は協力する。", "conjunction") == [("conjunction.repeated", "及び", "、")]
    assert covered("国、県及び市は協力する。", "conjunction") == []


def test_quoted_fragments_are_not_judged() -> None:
    assert covered("「第十号並びに第百十条各号」とする。", "conjunction") == []
