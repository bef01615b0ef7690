"""The whole checker: spans in the original text, dedup of word findings, real statute text."""

import pytest
from tests.kouyoubun.helpers import covered

from hiraga.kouyoubun.checker import check
from hiraga.kouyoubun.document import split_sentences
from hiraga.kouyoubun.findings import Origin
from hiraga.kouyoubun.morphology import SUDACHI_MAX_BYTES

# Real sentences of 行政手続法 and 個人情報の保護に関する法律 (e-Gov; statutes are public domain).
CLEAN_STATUTE_SENTENCES = [
    "この法律は、処分、行政指導及び届出に関する手続並びに命令等を定める手続に関し、共通する事項を定めることに"
    "よって、行政運営における公正の確保と透明性の向上を図り、もって国民の権利利益の保護に資することを目的とする。",
    "行政庁は、申請がその事務所に到達してから当該申請に対する処分をするまでに通常要すべき標準的な期間を定めるよう"
    "努めるとともに、これを定めたときは、これらの当該申請の提出先とされている機関の事務所における備付けその他の"
    "適当な方法により公にしておかなければならない。",
    "行政庁は、申請により求められた許認可等を拒否する処分をする場合は、申請者に対し、同時に、当該処分の理由を"
    "示さなければならない。",
    "ただし、法令に定められた許認可等の要件又は公にされた審査基準が数量的指標その他の客観的指標により明確に"
    "定められている場合であって、当該申請がこれらに適合しないことが申請書の記載又は添付書類その他の申請の内容から"
    "明らかであるときは、申請者の求めがあったときにこれを示せば足りる。",
    "個人情報取扱事業者は、個人情報を取り扱うに当たっては、その利用の目的をできる限り特定しなければならない。",
]


@pytest.mark.parametrize("sentence", CLEAN_STATUTE_SENTENCES)
def test_clean_statute_sentences_have_no_findings_but_length(sentence: str) -> None:
    assert [f for f in covered(sentence) if not f[0].startswith("length.")] == []


def test_spans_point_into_the_original_text_across_lines() -> None:
    text = "　第１条　申請して下さい。\r\n（目的）\n国並びに県は「協力「する」」。"
    found = covered(text)
    assert ("digits.full_width", "１", "1") in found
    assert ("kana.word", "下さい", "ください") in found
    assert ("conjunction.level", "並びに", "及び") in found
    assert ("bracket.nested", "「する」", "『する』") in found


def test_one_finding_per_place_for_word_usage() -> None:
    found = covered("書類を提出して頂く。")
    assert [f for f in found if f[1].endswith("頂く")] == [("kana.word", "頂く", "いただく")]


def test_every_finding_names_its_source_and_is_rule_based() -> None:
    for finding in check("申請して下さい。国並びに県。１２３。「「」」").findings:
        assert str(finding.source) and finding.reason and finding.origin is Origin.RULE


def test_sentences_ignore_full_stops_inside_brackets() -> None:
    text = "透明性（明らかであることをいう。）の向上を図る。次に進む。"
    assert [s.text for s in split_sentences(text)] == ["透明性（明らかであることをいう。）の向上を図る。", "次に進む。"]


def test_text_beyond_sudachis_input_limit_is_checked_in_pieces() -> None:
    sentence = "申請して下さい。"
    text = sentence * (SUDACHI_MAX_BYTES // len(sentence.encode()) + 100)
    result = check(text)
    flagged = [f for f in result.findings if f.rule_id == "kana.word"]
    assert len(flagged) == text.count("下さい")
    assert all(text[f.start : f.end] == "下さい" for f in flagged)


def test_a_single_unbroken_run_over_the_limit_is_tokenised() -> None:
    text = "あ" * 20_000 + "して下さい"
    assert covered(text, "kana") == [("kana.word", "下さい", "ください")]


def test_family_selection() -> None:
    text = "申請して下さい。１２３"
    assert {f[0] for f in covered(text, families=frozenset({"digits"}))} == {"digits.full_width"}
