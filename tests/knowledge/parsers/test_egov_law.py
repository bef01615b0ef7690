from __future__ import annotations

from pathlib import Path

import pytest

from hiraga.knowledge.chunking import chunk_document
from hiraga.knowledge.parsers import parse_document
from hiraga.knowledge.parsers.base import BlockKind, UnreadableDocument
from shared_data import shared_data

LAWS = shared_data("egov-law-xml")
BARE = LAWS / "405AC0000000088_20240401_504AC0100000052.xml"  # 行政手続法, <Law> root
WRAPPED = LAWS / "415AC0000000057.xml"  # 個人情報保護法, <DataRoot> wrapper


def articles(path: Path) -> dict[str, str]:
    parsed = parse_document(path.read_bytes(), path.name)
    main = [b for b in parsed.blocks if b.kind is BlockKind.ARTICLE and "#Mp-At_" in (b.url or "")]
    return {b.article or "": b.text for b in main}


def test_bare_law_root_keeps_title_chapter_and_article() -> None:
    parsed = parse_document(BARE.read_bytes(), BARE.name)
    assert parsed.title == "行政手続法"
    assert parsed.metadata["abbreviations"] == "行手法"
    assert parsed.metadata["law_num"] == "平成五年法律第八十八号"
    fifth = next(b for b in parsed.blocks if b.article == "第五条")
    assert fifth.heading_path == ("行政手続法", "第二章 申請に対する処分")
    assert fifth.text.startswith("第五条(審査基準)\n行政庁は、審査基準を定めるものとする。")
    assert fifth.url == "https://laws.e-gov.go.jp/law/405AC0000000088#Mp-At_5"


def test_api_wrapper_is_accepted_with_paragraphs_and_items() -> None:
    parsed = parse_document(WRAPPED.read_bytes(), "content.xml")
    assert parsed.title == "個人情報の保護に関する法律"
    assert parsed.metadata["law_id"] == "415AC0000000057"  # from <ApplData><LawId>, not the file name
    text = articles(WRAPPED)["第二十七条"]
    assert text.startswith("第二十七条(第三者提供の制限)")
    assert "\n一 法令に基づく場合" in text  # items kept as lines
    assert "\n2 " in text  # second paragraph numbered


def test_every_main_article_is_found() -> None:
    # counts from the samples' SOURCES.md (main provision only)
    assert len(articles(BARE)) == 48
    assert len(articles(WRAPPED)) == 185


def test_an_article_that_fits_is_one_chunk_naming_its_article() -> None:
    chunks = chunk_document(parse_document(BARE.read_bytes(), BARE.name))
    fifth = [c for c in chunks if c.article == "第五条" and "附" not in "".join(c.heading_path)]
    assert len(fifth) == 1 and fifth[0].text.startswith("第五条")


def test_malformed_xml_fails_with_a_reason() -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(b"<Law><LawBody><LawTitle>x</LawTitle>", "broken.xml")
    assert caught.value.code == "malformed_xml" and "XML" in caught.value.message


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE Law [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<Law><LawBody><LawTitle>&b;</LawTitle></LawBody></Law>"
    )
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(bomb, "bomb.xml")
    assert caught.value.code == "malformed_xml"


def test_other_xml_is_not_taken_for_a_law() -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(b"<?xml version='1.0'?><Law><Other/></Law>", "x.xml")
    assert caught.value.code == "not_egov_law"
