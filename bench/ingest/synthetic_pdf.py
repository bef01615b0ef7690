"""A large text-layer PDF written page by page (Helvetica, ASCII paragraphs), for memory benchmarks.

Each page carries ``lines_per_page`` numbered sentences, so every page yields a few chunks. The file
is written to disk as it is generated; nothing but the byte offsets stays in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

WORDS = ["the", "ward", "office", "issues", "certificates", "of", "residence", "at", "the", "counter", "on", "weekdays"]


def _page_text(page: int, lines_per_page: int) -> str:
    sentences = []
    for line in range(lines_per_page):
        words = " ".join(WORDS[(page + line + k) % len(WORDS)] for k in range(12))
        sentences.append(f"({page}-{line} {words}.) Tj 0 -14 Td")
    return "BT /F1 10 Tf 50 760 Td " + " ".join(sentences) + " ET"


def _write_object(out: BinaryIO, offsets: list[int], body: str) -> None:
    offsets.append(out.tell())
    out.write(f"{len(offsets)} 0 obj\n{body}\nendobj\n".encode("latin-1"))


def write_pdf(path: Path, pages: int, lines_per_page: int = 40) -> int:
    """Write a ``pages``-page PDF to ``path``; returns its size in bytes. Objects: 1 catalog,
    2 page tree, 3 font, then per page its page object and its content stream."""
    offsets: list[int] = []
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(pages))
        _write_object(out, offsets, "<< /Type /Catalog /Pages 2 0 R >>")
        _write_object(out, offsets, f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>")
        _write_object(out, offsets, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for n in range(pages):
            stream = _page_text(n + 1, lines_per_page)
            _write_object(
                out,
                offsets,
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * n} 0 R "
                "/Resources << /Font << /F1 3 0 R >> >> >>",
            )
            _write_object(out, offsets, f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        xref = out.tell()
        out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        out.write("".join(f"{o:010d} 00000 n \n" for o in offsets).encode())
        out.write(f"trailer << /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
        return out.tell()
