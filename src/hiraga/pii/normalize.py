"""NFKC normalisation that remembers where each normalised character came from.

Detectors match on the normalised text (full-width digits, ＠, （） and the many dash
characters all become ASCII) and report spans in the original text through ``span_in_original``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Dash-like characters people type inside numbers; NFKC leaves most of them alone.
_DASHES = frozenset("‐‑‒–—―−﹣－ｰ")
_CHOONPU = "ー"  # katakana long vowel mark: a dash only between digits (電話 03ー1234ー5678)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    text: str
    origin: tuple[int, ...]  # origin[i] = index in the original of normalised character i
    original_length: int

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering normalised characters ``start`` … ``end - 1``."""
        first = self.origin[start]
        last = self.origin[end - 1]
        return first, last + 1


def _normalize_char(text: str, index: int) -> str:
    char = text[index]
    if char in _DASHES:
        return "-"
    if char == _CHOONPU and index > 0 and _is_digit(text[index - 1]):
        return "-"
    if char == "\u3000":
        return " "
    if char.isascii():
        return char
    return unicodedata.normalize("NFKC", char)


def _is_digit(char: str) -> bool:
    return char.isdigit() or char in _DASHES


def normalize(text: str) -> NormalizedText:
    """Character-wise NFKC (so every output character has one origin) plus dash folding."""
    pieces: list[str] = []
    origin: list[int] = []
    for index in range(len(text)):
        folded = _normalize_char(text, index)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return NormalizedText("".join(pieces), tuple(origin), len(text))


def canonical(value: str) -> str:
    """The comparison key of a value: NFKC, case-folded, without spaces and dashes."""
    folded = normalize(value).text.casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch != "-")
