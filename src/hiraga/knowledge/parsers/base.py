"""What a document parser is and what it returns.

A parser turns the bytes of one file into a ``ParsedDocument``: a title and a flat list of
blocks (headings, paragraphs, list items, tables, law articles), each knowing where it sits
(heading path, page, article, link). Chunking works on blocks only, so every format gets the
same Japanese-aware chunking.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hiraga.errors import InvalidInput


class BlockKind(enum.StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE = "table"
    ARTICLE = "article"  # one article of a law, kept whole when it fits


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    article: str | None = None  # e.g. "第五条"
    url: str | None = None


@dataclass(slots=True)
class ParsedDocument:
    title: str
    blocks: list[Block] = field(default_factory=list)
    url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class PartedDocument:
    """A document read one part (page) at a time, so a long one is never held whole:
    ``read(start)`` yields the blocks of each part from part ``start`` (0-based) on. Formats
    without pages are one part. ``when_empty`` is raised when no part holds any text."""

    title: str
    part_count: int
    read: Callable[[int], Iterator[list[Block]]]
    url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    paged: bool = False
    when_empty: UnreadableDocument | None = None

    @classmethod
    def whole(cls, parsed: ParsedDocument) -> PartedDocument:
        def read(start: int) -> Iterator[list[Block]]:
            if start == 0:
                yield parsed.blocks

        return cls(parsed.title, 1, read, parsed.url, parsed.metadata)


class UnreadableDocument(InvalidInput):
    """A file that cannot be turned into text; the message says why, in Japanese."""

    status = 422
    code = "document_unreadable"
    message = "文書を読み取れませんでした。"


@runtime_checkable
class DocumentParser(Protocol):
    """One file format. Registered under the ``hiraga.parsers`` entry-point group."""

    name: str
    extensions: frozenset[str]  # lower-case, with the dot: {".pdf"}

    def sniff(self, head: bytes) -> bool:
        """True when the first bytes look like this format (catches wrong extensions)."""
        ...

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        """The document's text and structure; raises ``UnreadableDocument`` with a reason."""
        ...


@runtime_checkable
class PagedParser(Protocol):
    """A format that can also be read page by page (bounded memory for long documents)."""

    def parse_parts(self, data: bytes, filename: str) -> PartedDocument:
        """The document's title and a reader of its pages; raises ``UnreadableDocument`` early
        for what the first look can tell (encrypted, broken), later ones while reading."""
        ...
