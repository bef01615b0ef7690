"""Plain text and Markdown: ``#`` headings, ``-``/``*``/``1.``/``・`` list items, blank-line paragraphs,
pipe tables kept whole."""

from __future__ import annotations

import re
from pathlib import PurePath

from hiraga.knowledge.normalise import normalise_text
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, UnreadableDocument

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+・●○■□◆◇]|\d+[.)]|[①-⑳])\s*")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS/CP932 (common in Japanese offices)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocument("文字コードを判別できませんでした（UTF-8 または Shift_JIS で保存してください）。")


def looks_like_text(head: bytes) -> bool:
    return b"\x00" not in head[:4096]


def blocks_from_markdown(text: str, root: tuple[str, ...] = ()) -> list[Block]:
    """Blocks of Markdown-ish text; headings build the heading path under ``root``."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    paragraph: list[str] = []
    table: list[str] = []

    def here() -> tuple[str, ...]:
        return root + tuple(title for _, title in path)

    def flush() -> None:
        if paragraph:
            blocks.append(Block(BlockKind.PARAGRAPH, "".join(paragraph), here()))
            paragraph.clear()
        if table:
            blocks.append(Block(BlockKind.TABLE, "\n".join(table), here()))
            table.clear()

    for raw in normalise_text(text).split("\n"):
        line = raw.strip()
        heading = _HEADING.match(line)
        if not line or heading or line.startswith("|") != bool(table) or _LIST_ITEM.match(line):
            flush()
        if heading:
            level, title = len(heading.group(1)), heading.group(2).strip()
            path[:] = [(lv, t) for lv, t in path if lv < level] + [(level, title)]
            blocks.append(Block(BlockKind.HEADING, title, here()))
        elif line.startswith("|"):
            table.append(line)
        elif line and _LIST_ITEM.match(line):
            blocks.append(Block(BlockKind.LIST_ITEM, line, here()))
        elif line:
            paragraph.append(line)
    flush()
    return blocks


class TextParser:
    name = "text"
    extensions = frozenset({".txt", ".md", ".markdown", ".text"})

    def sniff(self, head: bytes) -> bool:
        return looks_like_text(head)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        text = decode_text(data)
        blocks = blocks_from_markdown(text)
        title = next((b.text for b in blocks if b.kind is BlockKind.HEADING), PurePath(filename).stem)
        return ParsedDocument(title=title, blocks=blocks)
