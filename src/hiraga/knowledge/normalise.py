"""Careful text normalisation before chunking, indexing and querying.

NFKC folds full-width ASCII and half-width katakana, which is what search needs, but it also
rewrites characters whose form carries meaning in official documents: circled numbers
(①, ㊀ — item markers in laws and forms) would become bare digits. Those are kept as written.
"""

from __future__ import annotations

import re
import unicodedata

# Enclosed alphanumerics and circled ideographs/numbers: their form is part of the meaning.
_PROTECTED_RANGES = ((0x2460, 0x24FF), (0x3200, 0x32FF), (0x1F100, 0x1F1FF))
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _is_protected(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _PROTECTED_RANGES)


def nfkc_keeping_meaning(text: str) -> str:
    """NFKC, except for characters whose enclosed form means something (①, ㈱ stays ㈱)."""
    if not any(_is_protected(c) for c in text):
        return unicodedata.normalize("NFKC", text)
    parts: list[str] = []
    plain: list[str] = []
    for char in text:
        if _is_protected(char):
            parts.append(unicodedata.normalize("NFKC", "".join(plain)))
            plain.clear()
            parts.append(char)
        else:
            plain.append(char)
    parts.append(unicodedata.normalize("NFKC", "".join(plain)))
    return "".join(parts)


def normalise_text(text: str) -> str:
    """Text as it is stored and indexed: NFKC (meaning kept), one newline style, no control
    or zero-width characters, runs of spaces collapsed, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_ZERO_WIDTH)
    text = _CONTROL.sub("", nfkc_keeping_meaning(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def normalise_query(text: str) -> str:
    """A search query: normalised like stored text, on one line."""
    return " ".join(normalise_text(text).split())
