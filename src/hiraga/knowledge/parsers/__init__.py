"""Document parsers, discovered through the ``hiraga.parsers`` entry-point group.

Built-ins are declared in hiraga's own pyproject like any third-party plugin. A file is parsed by
the parser registered for its extension, and only when its first bytes look like that format.
"""

from __future__ import annotations

from pathlib import PurePath

from hiraga import plugins
from hiraga.knowledge.parsers.base import (
    DocumentParser,
    PagedParser,
    ParsedDocument,
    PartedDocument,
    UnreadableDocument,
)

__all__ = [
    "DocumentParser",
    "ParsedDocument",
    "PartedDocument",
    "UnreadableDocument",
    "open_document",
    "parse_document",
    "parsers_by_extension",
]


def parsers_by_extension() -> dict[str, DocumentParser]:
    found: dict[str, DocumentParser] = {}
    for name, factory in sorted(plugins.discover("parsers").items()):
        parser = factory()
        if not isinstance(parser, DocumentParser):
            raise TypeError(f"parser plugin {name} does not implement DocumentParser")
        for extension in parser.extensions:
            found.setdefault(extension.lower(), parser)
    return found


def parse_document(data: bytes, filename: str) -> ParsedDocument:
    """Parse one file; raises ``UnreadableDocument`` (Japanese reason) for anything it cannot read."""
    return _parser_for(data, filename).parse(data, filename)


def open_document(data: bytes, filename: str) -> PartedDocument:
    """Like :func:`parse_document`, but page by page where the format allows (PDF), so ingestion
    holds one page at a time; other formats are parsed whole and read as one part."""
    parser = _parser_for(data, filename)
    if isinstance(parser, PagedParser):
        return parser.parse_parts(data, filename)
    return PartedDocument.whole(parser.parse(data, filename))


def _parser_for(data: bytes, filename: str) -> DocumentParser:
    extension = PurePath(filename).suffix.lower()
    parser = parsers_by_extension().get(extension)
    if parser is None:
        raise UnreadableDocument(
            f"この形式のファイル（{extension or '拡張子なし'}）には対応していません。",
            code="unsupported_format",
            detail={"extension": extension},
        )
    if not data:
        raise UnreadableDocument("ファイルが空です。", code="empty_document")
    if not parser.sniff(data[:8192]):
        raise UnreadableDocument(
            f"拡張子（{extension}）とファイルの中身の形式が一致しません。",
            code="wrong_format",
            detail={"parser": parser.name},
        )
    return parser
