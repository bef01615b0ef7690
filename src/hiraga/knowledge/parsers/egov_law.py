"""e-Gov law XML (法令標準XML): the bare ``<Law>`` root and the API v1 ``<DataRoot>`` wrapper.

Structure is kept: law title and abbreviations (document metadata), part/chapter/section titles
(heading path), one block per article with its caption, paragraphs and items, the article title
(e.g. 第五条) and a link to the article on e-Gov. XML is parsed with defusedxml: no DTDs, no
entity expansion.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from hiraga.knowledge.normalise import normalise_text
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, UnreadableDocument

EGOV_LAW_URL = "https://laws.e-gov.go.jp/law/{law_id}"
_CONTAINERS = {
    "Part": "PartTitle",
    "Chapter": "ChapterTitle",
    "Section": "SectionTitle",
    "Subsection": "SubsectionTitle",
    "Division": "DivisionTitle",
}
_ITEM_LEVELS = ("Item", *(f"Subitem{n}" for n in range(1, 11)))
_LAW_ID = re.compile(r"^\d{3}[A-Z]{2}\d{10}")


def _text(element: Element | None) -> str:
    """Text content without ruby readings (<Rt>)."""
    if element is None:
        return ""
    parts: list[str] = [element.text or ""]
    for child in element:
        if child.tag != "Rt":
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _sentences(element: Element | None) -> str:
    return "".join(_text(s) for s in element.iter("Sentence")) if element is not None else ""


def _items(parent: Element, depth: int = 0) -> list[str]:
    lines: list[str] = []
    if depth >= len(_ITEM_LEVELS):
        return lines
    tag = _ITEM_LEVELS[depth]
    for item in parent.findall(tag):
        title = _text(item.find(f"{tag}Title"))
        body = item.find(f"{tag}Sentence")
        columns = [] if body is None else body.findall("Column")
        sentence = "　".join(_sentences(c) for c in columns) if columns else _sentences(body)
        lines.append(f"{'　' * depth}{title}　{sentence}".strip())
        lines.extend(_items(item, depth + 1))
    return lines


def paragraph_lines(paragraph: Element) -> list[str]:
    number = _text(paragraph.find("ParagraphNum"))
    sentence = _sentences(paragraph.find("ParagraphSentence"))
    return [f"{number}　{sentence}".strip(), *_items(paragraph)]


def article_text(article: Element) -> str:
    caption = _text(article.find("ArticleCaption"))
    title = _text(article.find("ArticleTitle"))
    lines = [f"{title}{caption}"]
    for paragraph in article.findall("Paragraph"):
        lines.extend(paragraph_lines(paragraph))
    return normalise_text("\n".join(lines))


class EgovLawParser:
    name = "egov-law"
    extensions = frozenset({".xml"})

    def sniff(self, head: bytes) -> bool:
        return b"<Law" in head[:4096] or b"<DataRoot" in head[:4096]

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        try:
            root = fromstring(data, forbid_dtd=True)
        except (ParseError, DefusedXmlException) as exc:
            raise UnreadableDocument(
                "XML の形式が正しくないため読み取れません。", code="malformed_xml", detail=str(exc)
            ) from exc
        law = root if root.tag == "Law" else root.find(".//LawFullText/Law")
        body = law.find("LawBody") if law is not None else None
        if law is None or body is None:
            raise UnreadableDocument("e-Gov 法令 XML（<Law> または <DataRoot>）ではありません。", code="not_egov_law")
        title_element = body.find("LawTitle")
        title = normalise_text(_text(title_element)) or PurePath(filename).stem
        law_id = (root.findtext(".//ApplData/LawId") or "").strip() or _law_id_from(filename)
        url = EGOV_LAW_URL.format(law_id=law_id) if law_id else None
        blocks: list[Block] = []
        main = body.find("MainProvision")
        if main is not None:
            blocks.extend(self._walk(main, (title,), url, "Mp"))
        for number, suppl in enumerate(body.findall("SupplProvision"), start=1):
            label = _text(suppl.find("SupplProvisionLabel")) or "附則"
            amend = suppl.get("AmendLawNum")
            heading = (title, f"{label}（{amend}）" if amend else label)
            blocks.extend(self._walk(suppl, heading, url, f"Sp{number}"))
        for table in body.iter("AppdxTable"):
            caption = _text(table.find("AppdxTableTitle")) or "別表"
            blocks.append(Block(BlockKind.TABLE, normalise_text(_text(table)), (title, caption), url=url))
        metadata = {"law_title": title, "law_num": normalise_text(_text(law.find("LawNum"))), "law_id": law_id}
        if title_element is not None and title_element.get("Abbrev"):
            metadata["abbreviations"] = title_element.get("Abbrev", "")
        return ParsedDocument(title=title, blocks=blocks, url=url, metadata=metadata)

    def _walk(self, parent: Element, heading: tuple[str, ...], url: str | None, anchor: str) -> list[Block]:
        blocks: list[Block] = []
        for child in parent:
            if child.tag in _CONTAINERS:
                sub = (*heading, normalise_text(_text(child.find(_CONTAINERS[child.tag]))))
                blocks.append(Block(BlockKind.HEADING, sub[-1], sub))
                blocks.extend(self._walk(child, sub, url, anchor))
            elif child.tag == "Article":
                link = f"{url}#{anchor}-At_{child.get('Num', '')}" if url and anchor == "Mp" else url
                blocks.append(
                    Block(
                        BlockKind.ARTICLE,
                        article_text(child),
                        heading,
                        article=normalise_text(_text(child.find("ArticleTitle"))),
                        url=link,
                    )
                )
            elif child.tag == "Paragraph":  # provisions without articles (common in 附則)
                text = normalise_text("\n".join(paragraph_lines(child)))
                label = f"{heading[-1]}第{child.get('Num', '')}項" if len(heading) > 1 else None
                blocks.append(Block(BlockKind.ARTICLE, text, heading, article=label, url=url))
        return blocks


def _law_id_from(filename: str) -> str:
    match = _LAW_ID.match(PurePath(filename).name)
    return match.group(0) if match else ""
