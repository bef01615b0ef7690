"""Word (.docx), Excel (.xlsx) and PowerPoint (.pptx) — Office Open XML zip packages.

The zip container is checked before any library opens it (see ``zip_guard``)."""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Any

from hiraga.knowledge.normalise import normalise_text
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument, UnreadableDocument
from hiraga.knowledge.parsers.zip_guard import check_zip

_ZIP_MAGIC = b"PK\x03\x04"


def _open_failed(kind: str, exc: Exception) -> UnreadableDocument:
    return UnreadableDocument(f"{kind} ファイルが壊れているか、形式が正しくありません。", detail=str(exc))


class DocxParser:
    name = "docx"
    extensions = frozenset({".docx"})

    def sniff(self, head: bytes) -> bool:
        return head.startswith(_ZIP_MAGIC)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        check_zip(data, required="word/document.xml")
        import docx

        try:
            document: Any = docx.Document(io.BytesIO(data))
        except Exception as exc:  # python-docx raises many kinds on malformed packages
            raise _open_failed("Word", exc) from exc
        blocks: list[Block] = []
        path: list[tuple[int, str]] = []
        for paragraph in document.paragraphs:
            text = normalise_text(paragraph.text)
            style = str(getattr(paragraph.style, "name", "") or "")
            if not text:
                continue
            level = _heading_level(style)
            if level:
                path[:] = [(lv, t) for lv, t in path if lv < level] + [(level, text)]
                blocks.append(Block(BlockKind.HEADING, text, tuple(t for _, t in path)))
            else:
                kind = BlockKind.LIST_ITEM if "List" in style else BlockKind.PARAGRAPH
                blocks.append(Block(kind, text, tuple(t for _, t in path)))
        for table in document.tables:
            rows = [" | ".join(normalise_text(cell.text) for cell in row.cells) for row in table.rows]
            blocks.append(
                Block(BlockKind.TABLE, "\n".join(r for r in rows if r.strip(" |")), tuple(t for _, t in path))
            )
        title = str(document.core_properties.title or PurePath(filename).stem)
        return ParsedDocument(title=title, blocks=blocks)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading") and style[7:].strip().isdigit():
        return int(style[7:].strip())
    return 0


class XlsxParser:
    name = "xlsx"
    extensions = frozenset({".xlsx"})

    def sniff(self, head: bytes) -> bool:
        return head.startswith(_ZIP_MAGIC)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        check_zip(data, required="xl/workbook.xml")
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise _open_failed("Excel", exc) from exc
        blocks: list[Block] = []
        for sheet in workbook.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                cells = [normalise_text(str(v)) for v in row if v is not None and str(v).strip()]
                if cells:
                    rows.append(" | ".join(cells))
            if rows:
                blocks.append(Block(BlockKind.HEADING, sheet.title, (sheet.title,)))
                blocks.extend(
                    Block(BlockKind.TABLE, "\n".join(rows[i : i + 40]), (sheet.title,)) for i in range(0, len(rows), 40)
                )
        workbook.close()
        return ParsedDocument(title=PurePath(filename).stem, blocks=blocks)


class PptxParser:
    name = "pptx"
    extensions = frozenset({".pptx"})

    def sniff(self, head: bytes) -> bool:
        return head.startswith(_ZIP_MAGIC)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        check_zip(data, required="ppt/presentation.xml")
        import pptx

        try:
            presentation: Any = pptx.Presentation(io.BytesIO(data))
        except Exception as exc:
            raise _open_failed("PowerPoint", exc) from exc
        blocks: list[Block] = []
        for number, slide in enumerate(presentation.slides, start=1):
            title_shape = slide.shapes.title
            title = normalise_text(title_shape.text_frame.text) if title_shape is not None else f"スライド {number}"
            path = (title,)
            blocks.append(Block(BlockKind.HEADING, title, path, page=number))
            title_id = title_shape.shape_id if title_shape is not None else None
            for shape in slide.shapes:
                if shape.shape_id == title_id or not getattr(shape, "has_text_frame", False):
                    continue
                for paragraph in shape.text_frame.paragraphs:
                    text = normalise_text("".join(run.text for run in paragraph.runs))
                    if text:
                        blocks.append(Block(BlockKind.PARAGRAPH, text, path, page=number))
        return ParsedDocument(title=PurePath(filename).stem, blocks=blocks)
