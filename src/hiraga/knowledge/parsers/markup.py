"""HTML and CSV."""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from hiraga.knowledge.normalise import normalise_text
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, UnreadableDocument
from hiraga.knowledge.parsers.text import decode_text, looks_like_text

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_TEXT_BLOCKS = {"p", "li", "dd", "dt", "pre", "blockquote", "td", "th", "caption"}
_SKIPPED = {"script", "style", "noscript", "template", "nav", "header", "footer", "svg"}


class HtmlParser:
    name = "html"
    extensions = frozenset({".html", ".htm"})

    def sniff(self, head: bytes) -> bool:
        lowered = head[:2048].lower()
        return looks_like_text(head) and (b"<html" in lowered or b"<!doctype html" in lowered or b"<body" in lowered)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        import lxml.html
        from lxml import etree

        try:
            root = lxml.html.document_fromstring(decode_text(data))
        except (etree.ParserError, ValueError) as exc:
            raise UnreadableDocument("HTML を解析できませんでした。", detail=str(exc)) from exc
        for element in root.iter(*_SKIPPED):
            element.drop_tree()
        blocks: list[Block] = []
        path: list[tuple[int, str]] = []
        for element in root.iter(*_HEADINGS, *_TEXT_BLOCKS, "table"):
            if element.tag in ("td", "th") or any(a.tag == "table" for a in element.iterancestors()):
                continue  # cells are read as part of their table
            if element.tag in ("li", "p") and any(a.tag in ("li",) for a in element.iterancestors()):
                continue
            heading = tuple(t for _, t in path)
            if element.tag in _HEADINGS:
                text = normalise_text(element.text_content())
                level = _HEADINGS[element.tag]
                path[:] = [(lv, t) for lv, t in path if lv < level] + [(level, text)]
                blocks.append(Block(BlockKind.HEADING, text, tuple(t for _, t in path)))
            elif element.tag == "table":
                rows = [
                    " | ".join(normalise_text(c.text_content()) for c in tr.iter("td", "th"))
                    for tr in element.iter("tr")
                ]
                blocks.append(Block(BlockKind.TABLE, "\n".join(r for r in rows if r.strip(" |")), heading))
            else:
                kind = BlockKind.LIST_ITEM if element.tag == "li" else BlockKind.PARAGRAPH
                blocks.append(Block(kind, normalise_text(element.text_content()), heading))
        titles = root.findtext(".//title")
        return ParsedDocument(title=normalise_text(titles or "") or PurePath(filename).stem, blocks=blocks)


class CsvParser:
    name = "csv"
    extensions = frozenset({".csv", ".tsv"})
    rows_per_chunk = 30

    def sniff(self, head: bytes) -> bool:
        return looks_like_text(head)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        text = decode_text(data)
        delimiter = "\t" if filename.lower().endswith(".tsv") else ","
        try:
            rows = [[normalise_text(c) for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
        except csv.Error as exc:
            raise UnreadableDocument("CSV の形式が正しくありません。", detail=str(exc)) from exc
        rows = [r for r in rows if any(r)]
        if not rows:
            return ParsedDocument(title=PurePath(filename).stem)
        header, body = rows[0], rows[1:]
        blocks = []
        for start in range(0, max(len(body), 1), self.rows_per_chunk):
            part = [header, *body[start : start + self.rows_per_chunk]]
            blocks.append(Block(BlockKind.TABLE, "\n".join(" | ".join(r) for r in part)))
        return ParsedDocument(title=PurePath(filename).stem, blocks=blocks)
