"""Numbers and dates in a summary must stand in the source exactly: found in code, not trusted to
the model. Full-width digits and thousands separators are normalised before comparing."""

from __future__ import annotations

import re
import unicodedata

ERA = r"(?:令和|平成|昭和|大正|明治)(?:元|\d{1,2})年(?:\d{1,2}月(?:\d{1,2}日)?)?"
DATE = "|".join(
    (ERA, r"\d{4}年\d{1,2}月(?:\d{1,2}日)?", r"\d{4}[/.-]\d{1,2}[/.-]\d{1,2}", r"\d{1,2}月\d{1,2}日", r"\d{4}年度?")
)
NUMBER = r"\d+(?:\.\d+)?(?:%|パーセント|万|億|兆|千)*"
FACT = re.compile(rf"{DATE}|{NUMBER}")
SEPARATED = re.compile(r"(?<=\d)[,，](?=\d{3})")


def normalise(text: str) -> str:
    """NFKC (全角→半角 digits and signs), thousands separators and spaces inside numbers removed."""
    text = unicodedata.normalize("NFKC", text)
    return SEPARATED.sub("", text)


def facts_in(text: str) -> list[str]:
    """Dates and numbers (with their magnitude words) in order of appearance, each once."""
    seen: dict[str, None] = {}
    for match in FACT.finditer(normalise(text)):
        seen.setdefault(match.group(0), None)
    return list(seen)


def unsupported_facts(summary: str, source: str) -> list[str]:
    """Numbers and dates of ``summary`` that do not stand in ``source``."""
    haystack = normalise(source)
    missing = []
    for fact in facts_in(summary):
        pattern = rf"(?<![\d.]){re.escape(fact)}(?![\d])"
        if not re.search(pattern, haystack):
            missing.append(fact)
    return missing
