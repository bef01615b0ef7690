"""PDF text layer (pypdf), read page by page so a long PDF is never held as a whole text (or as
every parsed page object). Image-only and encrypted PDFs are refused with "no text layer"."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import PurePath

from hiraga.knowledge.normalise import normalise_text
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, PartedDocument, UnreadableDocument
from hiraga.knowledge.parsers.text import blocks_from_markdown

logging.getLogger("pypdf").setLevel(logging.ERROR)  # broken files are reported to the user, not logged

NO_TEXT_LAYER = "PDF にテキスト層がありません（画像だけの PDF です）。OCR 済みの PDF をアップロードしてください。"
BROKEN = "PDF ファイルが壊れているため読み取れません。"
FORGET_EVERY = 64  # pages after which the objects pypdf cached are dropped (they are read again if needed)


class PdfParser:
    name = "pdf"
    extensions = frozenset({".pdf"})

    def sniff(self, head: bytes) -> bool:
        return head.lstrip()[:5] == b"%PDF-"

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        parted = self.parse_parts(data, filename)
        blocks = [block for page in parted.read(0) for block in page]
        if not any(b.kind is not BlockKind.HEADING for b in blocks) and parted.when_empty is not None:
            raise parted.when_empty
        return ParsedDocument(title=parted.title, blocks=blocks)

    def parse_parts(self, data: bytes, filename: str) -> PartedDocument:
        """One part per page, text extracted only when the page is read."""
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise UnreadableDocument(
                    "PDF が暗号化されているため、テキスト層を読み取れません（no text layer）。"
                    "パスワード保護を解除してからアップロードしてください。",
                    code="pdf_encrypted",
                )
            title = str((reader.metadata.title if reader.metadata else None) or PurePath(filename).stem)
            page_count = len(reader.pages)
        except PdfReadError as exc:
            raise UnreadableDocument(BROKEN, detail=str(exc)) from exc

        def read(start: int) -> Iterator[list[Block]]:
            try:
                for number in range(start, page_count):
                    text = normalise_text(reader.pages[number].extract_text() or "")
                    if number % FORGET_EVERY == FORGET_EVERY - 1:
                        reader.resolved_objects.clear()  # pypdf keeps every object it read (≈13 kB a page)
                    yield _with_page(blocks_from_markdown(text), number + 1)
            except PdfReadError as exc:
                raise UnreadableDocument(BROKEN, detail=str(exc)) from exc

        empty = UnreadableDocument(NO_TEXT_LAYER, code="pdf_no_text_layer")
        return PartedDocument(title, page_count, read, paged=True, when_empty=empty)


def _with_page(blocks: list[Block], page: int) -> list[Block]:
    return [Block(b.kind, b.text, b.heading_path, page, b.article, b.url) for b in blocks]
