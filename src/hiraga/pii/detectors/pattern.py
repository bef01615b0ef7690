"""Shared machinery for detectors that match a regular expression on the normalised text."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from hiraga.pii.base import Finding
from hiraga.pii.normalize import NormalizedText, normalize

DIGIT_BOUNDARY_BEFORE = r"(?<![0-9¥￥$])(?<![0-9][- ])"
DIGIT_BOUNDARY_AFTER = r"(?![- ]?[0-9])(?! ?円)"  # …and not an amount (123456789012円)


@lru_cache(maxsize=16)
def normalized(text: str) -> NormalizedText:
    """Every detector of one scan sees the same text: normalise it once."""
    return normalize(text)


def digits_of(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def preceding(text: str, start: int, width: int) -> str:
    return text[max(0, start - width) : start]


class PatternDetector:
    """Finds ``pattern`` in the normalised text; ``judge`` accepts a match (confidence) or rejects it (None).

    The span reported is the ``value`` group when the pattern has one, else the whole match.
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    pattern: ClassVar[re.Pattern[str]]

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        return 1.0

    def detect(self, text: str) -> list[Finding]:
        norm = normalized(text)
        findings: list[Finding] = []
        for match in self.pattern.finditer(norm.text):
            confidence = self.judge(norm.text, match)
            if confidence is None:
                continue
            group = "value" if "value" in self.pattern.groupindex else 0
            start, end = norm.span_in_original(*match.span(group))
            findings.append(Finding(self.kind, start, end, text[start:end], confidence))
        return findings
