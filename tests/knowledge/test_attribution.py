"""Attribution: each claim of an answer is tied to a shown passage that contains it; markers on
passages that do not are moved or dropped, unsupported claims are marked, and an answer with no
supported claim becomes a verbatim quotation."""

from __future__ import annotations

from hiraga.knowledge.attribution import UNSUPPORTED_MARK, attribute, best_sentence, is_claim, pieces, supports
from hiraga.knowledge.citations import Passage, containment

ARTICLE_5 = Passage(
    1, 11, 1, "405AC0000000088.xml", "行政手続法",
    "第五条　行政庁は、審査基準を定めるものとする。"
    "２　行政庁は、審査基準を定めるに当たっては、許認可等の性質に照らしてできる限り具体的なものとしなければならない。"
    "３　行政庁は、行政上特別の支障があるときを除き、法令により申請の提出先とされている"
    "機関の事務所における備付けその他の適当な方法により審査基準を公にしておかなければならない。",
    2.0, ("行政手続法",), None, "第五条",
)  # fmt: skip
ARTICLE_6 = Passage(
    2, 12, 1, "405AC0000000088.xml", "行政手続法",
    "第六条　行政庁は、申請がその事務所に到達してから当該申請に対する処分をするまでに通常要すべき標準的な期間を"
    "定めるよう努めるとともに、これを定めたときは、適当な方法により公にしておかなければならない。",
    1.0, ("行政手続法",), None, "第六条",
)  # fmt: skip
SHOWN = [ARTICLE_5, ARTICLE_6]


def test_a_claim_its_cited_passage_contains_keeps_its_marker() -> None:
    answer = "行政庁は審査基準を定めるものとされています[1]。"
    result = attribute(answer, "審査基準は誰が定めますか", SHOWN)
    assert result.text == answer
    assert not result.moved and not result.unsupported and not result.quoted and result.notices == []


def test_a_marker_on_the_wrong_passage_moves_to_the_passage_that_holds_the_claim() -> None:
    answer = "行政庁は標準的な期間を定めるよう努めるとともに、公にしておかなければなりません[1]。"
    result = attribute(answer, "標準処理期間は", SHOWN)
    assert result.text == "行政庁は標準的な期間を定めるよう努めるとともに、公にしておかなければなりません[2]。"
    assert result.moved == 1 and any("付け直しました" in n for n in result.notices)


def test_only_the_cited_passages_that_hold_the_claim_stay() -> None:
    result = attribute("行政庁は、審査基準を定めるものとする[1][2]。", "審査基準", SHOWN)
    assert result.text == "行政庁は、審査基準を定めるものとする[1]。"


def test_a_claim_no_passage_holds_is_marked_and_loses_its_markers() -> None:
    answer = "行政庁は審査基準を定めます[1]。手数料は千円です[2]。"
    result = attribute(answer, "審査基準と手数料", SHOWN)
    assert result.text == f"行政庁は審査基準を定めます[1]。手数料は千円です{UNSUPPORTED_MARK}。"
    assert result.unsupported == ["手数料は千円です。"]
    assert any("確認できない" in n for n in result.notices)


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    assert pieces("審査基準を定める。[1] 次の文。") == ["審査基準を定める。[1] ", "次の文。"]
    result = attribute("行政庁は審査基準を定めるものとする。[2]", "審査基準", SHOWN)
    assert result.text == "行政庁は審査基準を定めるものとする[1]。"


def test_a_bare_marker_becomes_a_quotation_of_the_sentence_that_answers() -> None:
    question = "審査基準はどのような方法で公にしておかなければなりませんか"
    result = attribute("[1]", question, SHOWN)
    assert result.quoted and result.notices[0].startswith("モデルの回答に資料で確認できる文がなかった")
    assert result.text.startswith("資料の該当箇所:\n\n> 「３　行政庁は、行政上特別の支障があるときを除き")
    assert result.text.endswith("」[1]")
    quoted = result.text[result.text.index("「") + 1 : result.text.rindex("」")]
    assert quoted + "。" in ARTICLE_5.text and containment(quoted, ARTICLE_5.text) == 1.0
    assert [p for p in pieces(result.text) if is_claim(p)] == [result.text.split("\n\n")[1]]  # the label is none


def test_an_answer_with_no_supported_claim_keeps_it_marked_and_quotes_the_cited_passage() -> None:
    result = attribute("わかりやすく言えば、窓口に聞いてください[2]。", "標準的な期間を定めるのは誰", SHOWN)
    assert result.quoted and result.unsupported == ["わかりやすく言えば、窓口に聞いてください。"]
    first, quote = result.text.split("\n\n資料の該当箇所:\n\n> ")
    assert first == f"わかりやすく言えば、窓口に聞いてください{UNSUPPORTED_MARK}。"
    assert quote.startswith("「第六条　行政庁は、申請がその事務所に到達してから") and quote.endswith("」[2]")


def test_a_paraphrase_with_the_passage_content_words_is_supported() -> None:
    assert supports("審査基準は行政庁が具体的に定めるものです", ARTICLE_5.text)
    assert not supports("行政庁が審査基準を具体的に定める必要がある", ARTICLE_5.text)  # 必要 is not there
    assert not supports("行政庁が手数料を具体的に定める", ARTICLE_5.text)
    assert not supports("審査基準がある", ARTICLE_6.text)


def test_a_claim_that_negates_what_the_passage_says_is_not_supported() -> None:
    # every content word and most 3-grams are in 第五条, but it says the opposite
    assert not supports("行政庁は、審査基準を定めないものとする", ARTICLE_5.text)
    assert not supports("行政庁は審査基準を公にしておかなくてもよい", ARTICLE_5.text)
    assert supports("行政庁は審査基準を公にしておかなければなりません", ARTICLE_5.text)  # two negations: a duty
    result = attribute("行政庁は審査基準を定めなくてもよいとされています[1]。", "審査基準は必要ですか", SHOWN)
    flagged = result.text.split(UNSUPPORTED_MARK)[0]
    assert result.unsupported and UNSUPPORTED_MARK in result.text and "[1]" not in flagged


def test_saying_the_passages_do_not_answer_is_left_alone() -> None:
    result = attribute("資料からは分かりません。", "来週の天気", SHOWN)
    assert result.text == "資料からは分かりません。" and not result.quoted and result.notices == []


def test_the_best_sentence_shares_the_most_content_words_with_the_question() -> None:
    assert best_sentence("許認可等の性質に照らして具体的に", ARTICLE_5).startswith(
        "２　行政庁は、審査基準を定めるに当たっては"
    )


def test_without_passages_nothing_changes() -> None:
    assert attribute("何か[1]", "質問", []).text == "何か[1]"


def test_sentences_do_not_end_inside_brackets() -> None:
    quoted = "「行政指導（法律に置かれているものに限る。）の相手方は、申し出ることができる」[1]"
    assert pieces(f"{quoted}\n次の文。") == [quoted + "\n", "次の文。"]
    assert pieces("彼は「はい。」と言った。次。") == ["彼は「はい。」と言った。", "次。"]


def test_a_claim_naming_the_passage_label_is_supported_by_that_passage() -> None:
    result = attribute("根拠は行政手続法第六条です[2]。", "標準処理期間", SHOWN)
    assert result.text == "根拠は行政手続法第六条です[2]。" and not result.unsupported
