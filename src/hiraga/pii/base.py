"""The PII detector plugin contract.

A detector is anything with a ``kind`` (stable machine name, used in audit counts), a ``label``
(the Japanese word used in placeholders such as 〔氏名1〕) and ``detect(text)`` returning findings
with character spans in the text it was given. Built-in detectors are registered through the
``hiraga.pii_detectors`` entry-point group exactly like third-party ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value: ``text[start:end]`` of the text that was scanned."""

    kind: str
    start: int
    end: int
    value: str
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("a finding needs a non-empty span")

    @property
    def length(self) -> int:
        return self.end - self.start

    def __repr__(self) -> str:  # never print the value itself (logs, tracebacks)
        return f"Finding(kind={self.kind!r}, start={self.start}, end={self.end})"


@runtime_checkable
class PiiDetector(Protocol):
    """One kind of personal data. ``detect`` reports spans in the ORIGINAL text it receives."""

    kind: str
    label: str

    def detect(self, text: str) -> list[Finding]: ...
