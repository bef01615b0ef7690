"""Citation checking in code: markers parsed, invalid ones removed and reported, law references
named by law and article with their e-Gov link, containment measured on character n-grams."""

from __future__ import annotations

from hiraga.knowledge.citations import (
    Passage,
    check_citations,
    cited_numbers,
    cited_sentences,
    containment,
    law_footer,
    linked_markers,
)

ARTICLE_5 = Passage(
    1, 11, 1, "405AC0000000088_sample.xml", "行政手続法", "行政庁は、審査基準を定めるものとする。", 1.0,
    ("行政手続法", "第二章　申請に対する処分"), None, "第五条", "https://laws.e-gov.go.jp/law/405AC0000000088#Mp-At_5",
)  # fmt: skip
TEXT_LAW = Passage(
    2, 12, 2, "321CONSTITUTION_19470503_000000000000000.md", "日本国憲法",
    "第十三条 すべて国民は、個人として尊重される。\n第十四条 すべて国民は、法の下に平等であつて", 0.5,
)  # fmt: skip
MANUAL = Passage(3, 13, 3, "窓口マニュアル.pdf", "窓口マニュアル", "受付は九時からです。", 0.3, ("窓口",), 4)


def test_valid_markers_are_kept_and_invalid_ones_removed_and_reported() -> None:
    checked = check_citations(
        "審査基準を定めます[1]。受付は九時です［３］。根拠なし[7]。[2, 9]", [ARTICLE_5, TEXT_LAW, MANUAL]
    )
    assert checked.text == "審査基準を定めます[1]。受付は九時です[3]。根拠なし。[2]"
    assert [p.number for p in checked.cited] == [1, 3, 2]
    assert checked.invalid == [7, 9]
    assert checked.grounded


def test_an_answer_citing_nothing_valid_is_not_grounded() -> None:
    checked = check_citations("どこにも書いていません[4]。", [ARTICLE_5])
    assert checked.cited == [] and checked.invalid == [4] and not checked.grounded
    assert "[4]" not in checked.text


def test_law_passages_are_named_by_law_and_article_with_the_egov_link() -> None:
    assert ARTICLE_5.label == "行政手続法第五条"
    assert ARTICLE_5.link == "https://laws.e-gov.go.jp/law/405AC0000000088#Mp-At_5"
    # a plain-text law file: the law id comes from the file name, the articles from the text
    assert TEXT_LAW.label == "日本国憲法第十三条・第十四条"
    assert TEXT_LAW.link == "https://laws.e-gov.go.jp/law/321CONSTITUTION"
    assert MANUAL.law is None and MANUAL.label == "窓口マニュアル（4 ページ）" and MANUAL.link is None


def test_the_footer_names_each_cited_law_article() -> None:
    footer = law_footer(check_citations("定めます[1]。受付[3]。", [ARTICLE_5, MANUAL]))
    assert footer == "根拠条文: [1] [行政手続法第五条](https://laws.e-gov.go.jp/law/405AC0000000088#Mp-At_5)"
    assert law_footer(check_citations("受付[3]。", [MANUAL])) == ""


def test_markers_become_links_to_the_evidence_only_when_valid() -> None:
    linked = linked_markers("定めます[1]。誤り[5]。[参考](https://example.jp)", [1])
    assert "[\\[1\\]](#passage-1)" in linked and "[5]" in linked and "(#passage-5)" not in linked
    assert "[参考](https://example.jp)" in linked


def test_numbers_and_sentences() -> None:
    assert cited_numbers("a[1] b［2］ c[3・4] d[x]") == [1, 2, 3, 4]
    assert cited_sentences("行政庁は定める。[1] 公にする[2]。説明だけ。") == [
        ("行政庁は定める。", [1]),
        ("公にする。", [2]),
    ]


def test_containment_counts_character_trigrams_of_the_claim() -> None:
    passage = "行政庁は、審査基準を定めるものとする。"
    assert containment("行政庁は審査基準を定める", passage) == 1.0
    assert containment("市長は手数料を徴収する", passage) == 0.0
    assert 0.0 < containment("行政庁は手数料を定める", passage) < 1.0
