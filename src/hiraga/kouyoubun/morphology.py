"""SudachiPy morphology: one tokenizer per thread (reused for the life of the process), and text
cut into pieces Sudachi accepts (it refuses inputs over 49,149 bytes)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

SUDACHI_MAX_BYTES = 49_149
_local = threading.local()


@dataclass(frozen=True, slots=True)
class Token:
    surface: str
    start: int  # character offsets in the text that was tokenised
    end: int
    pos: tuple[str, ...]  # Sudachi's six part-of-speech fields
    dictionary_form: str
    reading: str

    @property
    def main_pos(self) -> str:
        return self.pos[0]


def tokenizer() -> Any:
    """The thread's Sudachi tokenizer (Sudachi tokenizers are not thread-safe)."""
    found = getattr(_local, "tokenizer", None)
    if found is None:
        from sudachipy import Dictionary, SplitMode

        found = Dictionary(dict="core").tokenizer(SplitMode.C)
        _local.tokenizer = found
    return found


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` with offsets into it; long text is tokenised piece by piece."""
    tokens: list[Token] = []
    for offset, piece in _pieces(text):
        for m in tokenizer().tokenize(piece):
            tokens.append(
                Token(
                    m.surface(),
                    offset + m.begin(),
                    offset + m.end(),
                    tuple(m.part_of_speech()),
                    m.dictionary_form(),
                    m.reading_form(),
                )
            )
    return tokens


def _pieces(text: str, limit: int = 40_000) -> list[tuple[int, str]]:
    """(offset, piece) pairs under ``limit`` bytes, cut after 。 or a line end where possible."""
    if len(text.encode("utf-8")) <= limit:
        return [(0, text)] if text else []
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit // 4)  # ≤ 4 bytes a character in UTF-8
        cut = max(text.rfind("。", start, end), text.rfind("\n", start, end))
        if end < len(text) and cut > start:
            end = cut + 1
        pieces.append((start, text[start:end]))
        start = end
    return pieces
