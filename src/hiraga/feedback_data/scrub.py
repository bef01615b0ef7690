"""Personal data out of a candidate item: every text of one item goes through hiraga's PII
detectors with one placeholder map, so the same value gets the same typed placeholder (〔氏名1〕)
in the prompt, the answer and the correction. Only the scrubbed text and counts per kind are kept."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hiraga.pii import PiiDetector, PlaceholderMap, mask

PLACEHOLDER = re.compile(r"〔[^〔〕\s]{1,20}?[0-9]+〕")


@dataclass(slots=True)
class ItemTexts:
    """What a candidate item holds: ``prompt`` as chat messages (system, retrieved context, turns)."""

    prompt: list[dict[str, str]]
    answer: str = ""
    corrected: str = ""
    rejected: str = ""
    comment: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "answer": self.answer,
            "corrected": self.corrected,
            "rejected": self.rejected,
            "comment": self.comment,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemTexts:
        prompt = [{"role": str(m["role"]), "content": str(m["content"])} for m in data.get("prompt", [])]
        fields = {k: str(data.get(k, "")) for k in ("answer", "corrected", "rejected", "comment")}
        return cls(prompt=prompt, **fields)


@dataclass(slots=True)
class Scrubbed:
    texts: ItemTexts
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def default_detectors() -> list[PiiDetector]:
    """The installed PII detectors, the same instances the gateway's PII step uses."""
    from hiraga.spine.pii import shared_guard

    return shared_guard().detectors


def scrub(texts: ItemTexts, detectors: list[PiiDetector] | None = None) -> Scrubbed:
    detectors = default_detectors() if detectors is None else detectors
    mapping = PlaceholderMap()
    counts: Counter[str] = Counter()

    def clean(text: str) -> str:
        masked = mask(text, detectors, mapping)
        counts.update(masked.counts)
        return masked.text

    prompt = [{"role": m["role"], "content": clean(m["content"])} for m in texts.prompt]
    scrubbed = ItemTexts(
        prompt=prompt,
        answer=clean(texts.answer),
        corrected=clean(texts.corrected),
        rejected=clean(texts.rejected),
        comment=clean(texts.comment),
    )
    return Scrubbed(scrubbed, dict(counts))


def segments(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_placeholder), for highlighting in the review queue."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > position:
            pieces.append((text[position : match.start()], False))
        pieces.append((match.group(), True))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces
