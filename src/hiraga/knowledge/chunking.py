"""Japanese-aware chunking of parsed blocks.

- Sentences end at 。！？!? (and line ends); a long paragraph is cut only between sentences.
- A heading starts a new chunk and its text becomes part of the heading path.
- A table or a law article stays whole when it fits in ``hard_max`` characters; otherwise it is
  cut between rows / paragraphs, never mid-sentence unless one sentence alone is too long.
- Consecutive paragraphs and list items under the same heading on the same page are packed up to
  ``target`` characters.
Each chunk carries the document's metadata: heading path, page or article, URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, PartedDocument

_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![」』）)])|\n")


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    text: str
    heading_path: tuple[str, ...]
    page: int | None
    article: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class ChunkingPolicy:
    target: int = 600  # characters a packed chunk aims for
    hard_max: int = 1200  # a table or article up to this size stays whole

    def __post_init__(self) -> None:
        if not 50 <= self.target <= self.hard_max:
            raise ValueError("chunk sizes out of range")


def split_sentences(text: str) -> list[str]:
    """Sentences of Japanese (or mixed) text, punctuation kept, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _pack(parts: list[str], limit: int, joiner: str) -> list[str]:
    """Greedy packing of parts into strings of at most ``limit`` characters (a lone part may exceed)."""
    packed: list[str] = []
    current = ""
    for part in parts:
        while len(part) > limit:  # one sentence longer than a chunk: cut it on characters
            if current:
                packed.append(current)
                current = ""
            packed.append(part[:limit])
            part = part[limit:]
        candidate = f"{current}{joiner}{part}" if current else part
        if len(candidate) > limit and current:
            packed.append(current)
            candidate = part
        current = candidate
    if current:
        packed.append(current)
    return packed


def _pieces_of(block: Block, policy: ChunkingPolicy) -> list[str]:
    """A block as one or more chunk texts."""
    if block.kind in (BlockKind.TABLE, BlockKind.ARTICLE):
        if len(block.text) <= policy.hard_max:
            return [block.text]
        lines = [line for line in block.text.split("\n") if line.strip()]
        parts = [s for line in lines for s in ([line] if len(line) <= policy.target else split_sentences(line))]
        return _pack(parts, policy.target, "\n")
    if len(block.text) <= policy.target:
        return [block.text]
    return _pack(split_sentences(block.text), policy.target, "")


def chunk_document(
    document: ParsedDocument, policy: ChunkingPolicy | None = None, first_ordinal: int = 0
) -> list[Chunk]:
    """Chunks in reading order, ordinals from ``first_ordinal``."""
    policy = policy or ChunkingPolicy()
    chunks: list[Chunk] = []
    pending: list[str] = []
    anchor: Block | None = None

    def flush() -> None:
        nonlocal anchor
        if anchor is not None and pending:
            for text in _pack(pending, policy.target, "\n"):
                chunks.append(_chunk(first_ordinal + len(chunks), text, anchor, document))
        pending.clear()
        anchor = None

    for block in document.blocks:
        if not block.text.strip():
            continue
        if block.kind is BlockKind.HEADING:
            flush()
            continue
        if block.kind in (BlockKind.TABLE, BlockKind.ARTICLE) or not _same_place(anchor, block):
            flush()
        if block.kind in (BlockKind.TABLE, BlockKind.ARTICLE):
            for text in _pieces_of(block, policy):
                chunks.append(_chunk(first_ordinal + len(chunks), text, block, document))
            continue
        anchor = anchor or block
        pending.extend(_pieces_of(block, policy))
    flush()
    return chunks


class ChunkStream:
    """The chunks of a document read part by part (page by page), from part ``start_part`` whose
    first chunk has ordinal ``first_ordinal``. A chunk never spans two pages (a page change ends
    the packing), so chunking page by page gives exactly the chunks of the whole document.
    Yields ``(part, chunk)``; ``chunked`` counts the chunks up to the end of the last part read."""

    def __init__(self, document: PartedDocument, start_part: int = 0, first_ordinal: int = 0) -> None:
        self.document = document
        self.chunked = first_ordinal
        self._chunks = self._generate(start_part)

    def __iter__(self) -> Iterator[tuple[int, Chunk]]:
        return self._chunks

    def _generate(self, start_part: int) -> Iterator[tuple[int, Chunk]]:
        for part, blocks in enumerate(self.document.read(start_part), start=start_part):
            page = ParsedDocument(self.document.title, blocks, self.document.url)
            chunks = chunk_document(page, first_ordinal=self.chunked)
            self.chunked += len(chunks)
            for chunk in chunks:
                yield part, chunk


def _same_place(anchor: Block | None, block: Block) -> bool:
    return anchor is None or (anchor.heading_path == block.heading_path and anchor.page == block.page)


def _chunk(ordinal: int, text: str, block: Block, document: ParsedDocument) -> Chunk:
    return Chunk(
        ordinal=ordinal,
        text=text,
        heading_path=block.heading_path,
        page=block.page,
        article=block.article,
        url=block.url or document.url,
    )
