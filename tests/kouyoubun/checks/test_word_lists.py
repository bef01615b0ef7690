"""The prh list and the morpheme lists (rules/)."""

from tests.kouyoubun.helpers import covered

from hiraga.kouyoubun.dictionaries import morpheme_rules, word_patterns


def test_a_prh_pattern_is_flagged_with_the_expected_form() -> None:
    assert covered("必要があり、且つ、相当と認める。", None) == [("kana.word", "且つ", "かつ")]
    assert covered("次の通りとする。", "prh") == [("prh.word", "の通り", "のとおり")]


def test_a_prh_pattern_inside_a_longer_word_is_not_flagged() -> None:
    assert covered("その場所が、指定される。", "prh") == []


def test_okurigana_rules_for_nouns_leave_verbs_alone() -> None:
    assert covered("賃金を支払い、報告する。", "prh") == []
    assert covered("給与の支払いを行う。", "prh") == [("prh.word", "支払い", "支払")]


def test_rules_that_undo_each_other_keep_the_2010_one() -> None:
    pairs = {(p.pattern, p.expected) for p in word_patterns()}
    assert ("かんがみ", "鑑み") in pairs and ("鑑み", "かんがみ") not in pairs


def test_hiragana_lists_lose_entries_the_official_list_contradicts() -> None:
    flagged = {
        "".join(t.surface or "" for t in r.flagged_tokens) for r in morpheme_rules() if "hiragana" in r.list_file
    }
    assert "既に" not in flagged  # the official list wants 既に
    assert "頂く" in flagged


def test_morpheme_list_pronoun_and_legal_phrases() -> None:
    assert covered("おれが行く。", "morpheme") == [("morpheme.word", "おれ", "俺")]
    assert covered("甲又は乙", "morpheme") == []
    assert covered("規定にかかわらず、適用する。", "morpheme") == []
