"""Names in a model's text must stand in its source: proper nouns (Sudachi's 固有名詞: people,
places, organisations) of a summary that its source never names, and Latin-script names of a
Japanese source (JR, DX, Microsoft) that a translation dropped."""

from __future__ import annotations

import re
import unicodedata

from hiraga.kouyoubun.morphology import tokenize

LATIN_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9&.\-]*[A-Za-z0-9]")
KANA = re.compile(r"[\u3040-\u30ff]")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def proper_nouns(text: str) -> list[str]:
    """The 固有名詞 of ``text``, each once, in order (single characters left out: too ambiguous)."""
    seen: dict[str, None] = {}
    for token in tokenize(_norm(text)):
        if token.pos[:2] == ("名詞", "固有名詞") and len(token.surface) > 1:
            seen.setdefault(token.surface, None)
    return list(seen)


def unsupported_names(summary: str, source: str) -> list[str]:
    """Proper nouns of ``summary`` that do not stand in ``source``."""
    haystack = _norm(source)
    return [name for name in proper_nouns(summary) if name not in haystack]


def dropped_names(translation: str, source: str) -> list[str]:
    """Latin-script names of a Japanese ``source`` that ``translation`` does not carry."""
    source = _norm(source)
    if not KANA.search(source):
        return []  # names of a non-Japanese source are legitimately transliterated
    carried = _norm(translation)
    names = dict.fromkeys(LATIN_NAME.findall(source))
    return [name for name in names if name not in carried]
