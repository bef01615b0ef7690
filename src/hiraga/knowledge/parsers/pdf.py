"""PDF text layer (pypdf). Image-only and encrypted PDFs are refused with "no text layer"."""

from __future__ import annotations

import io
import logging
from pathlib import PurePath

from hiraga.knowledge.normalise import normalise_text
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, UnreadableDocument
from hiraga.knowledge.parsers.text import blocks_from_markdown

logging.getLogger("pypdf").setLevel(logging.ERROR)  # broken files are reported to the user, not logged

NO_TEXT_LAYER = "PDF にテキスト層がありません（画像だけの PDF です）。OCR 済みの PDF をアップロードしてください。"


class PdfParser:
    name = "pdf"
    extensions = frozenset({".pdf"})

    def sniff(self, head: bytes) -> bool:
        return head.lstrip()[:5] == b"%PDF-"

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
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
            blocks: list[Block] = []
            for number, page in enumerate(reader.pages, start=1):
                text = normalise_text(page.extract_text() or "")
                blocks.extend(_with_page(blocks_from_markdown(text), number))
            title = str((reader.metadata.title if reader.metadata else None) or PurePath(filename).stem)
        except PdfReadError as exc:
            raise UnreadableDocument("PDF ファイルが壊れているため読み取れません。", detail=str(exc)) from exc
        if not any(b.kind is not BlockKind.HEADING for b in blocks):
            raise UnreadableDocument(NO_TEXT_LAYER, code="pdf_no_text_layer")
        return ParsedDocument(title=title, blocks=blocks)


def _with_page(blocks: list[Block], page: int) -> list[Block]:
    return [Block(b.kind, b.text, b.heading_path, page, b.article, b.url) for b in blocks]
