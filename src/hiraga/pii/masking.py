"""Replace PII with stable placeholders (〔氏名1〕) and put the values back into model output.

One ``PlaceholderMap`` lives for one request (or conversation): pass it to every ``mask`` call so
the same value always gets the same placeholder, then to ``restore`` / ``StreamingRestorer``.
The map never shows its values in ``repr`` and ``restore`` never emits anything but the values of
placeholders the model actually wrote, so the map cannot leak into logs or answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from hiraga.pii.base import PiiDetector
from hiraga.pii.normalize import canonical
from hiraga.pii.scan import scan

OPEN_BRACKETS = "〔[［【「(（<＜{｛"
CLOSE_BRACKETS = "〕]］】」)）>＞}｝"
SPACE = "[ \u3000]"
NUMBER_SEPARATOR = "[_＿\\-－:：#＃]"


def placeholder(label: str, number: int) -> str:
    return f"〔{label}{number}〕"


class PlaceholderMap:
    """value ↔ placeholder for one request; the same (kind, value) always maps to the same placeholder."""

    def __init__(self) -> None:
        self._placeholder_by_value: dict[tuple[str, str], str] = {}
        self._value_by_number: dict[tuple[str, int], str] = {}
        self._last_number: Counter[str] = Counter()

    def placeholder_for(self, kind: str, label: str, value: str) -> str:
        key = (kind, canonical(value))
        existing = self._placeholder_by_value.get(key)
        if existing is not None:
            return existing
        self._last_number[label] += 1
        number = self._last_number[label]
        self._value_by_number[(label, number)] = value
        self._placeholder_by_value[key] = placeholder(label, number)
        return self._placeholder_by_value[key]

    def value_for(self, label: str, number: int) -> str | None:
        return self._value_by_number.get((label, number))

    def mask_known(self, text: str) -> str:
        """``text`` with every value this map holds replaced by its placeholder wherever it occurs as
        written (a value found in one message with its context is masked where it stands alone too:
        a tool call's arguments, a tool's result)."""
        if not self._value_by_number:
            return text
        lookup: dict[str, str] = {}
        for (label, number), value in self._value_by_number.items():
            lookup.setdefault(value, placeholder(label, number))
        alternatives = sorted(lookup, key=len, reverse=True)
        return re.sub("|".join(re.escape(value) for value in alternatives), lambda m: lookup[m.group()], text)

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(self._last_number)

    def __len__(self) -> int:
        return len(self._value_by_number)

    def __repr__(self) -> str:
        return f"PlaceholderMap({len(self)} values)"


@dataclass(frozen=True, slots=True)
class MaskedText:
    text: str
    mapping: PlaceholderMap
    counts: dict[str, int] = field(default_factory=dict)  # kind → occurrences; never the values

    def __repr__(self) -> str:
        return f"MaskedText(counts={self.counts!r})"


def mask(text: str, detectors: Sequence[PiiDetector], mapping: PlaceholderMap | None = None) -> MaskedText:
    """Replace every finding of ``detectors`` in ``text`` by its placeholder."""
    mapping = mapping if mapping is not None else PlaceholderMap()
    labels = {detector.kind: detector.label for detector in detectors}
    pieces: list[str] = []
    counts: Counter[str] = Counter()
    position = 0
    for finding in scan(text, detectors):
        pieces.append(text[position : finding.start])
        pieces.append(mapping.placeholder_for(finding.kind, labels[finding.kind], finding.value))
        counts[finding.kind] += 1
        position = finding.end
    pieces.append(text[position:])
    return MaskedText("".join(pieces), mapping, dict(counts))


@lru_cache(maxsize=64)
def placeholder_pattern(labels: frozenset[str]) -> re.Pattern[str]:
    """A placeholder as a model may echo it: any bracket style or none, spaces, full-width digits."""
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    open_, close = re.escape(OPEN_BRACKETS), re.escape(CLOSE_BRACKETS)
    return re.compile(
        f"(?:[{open_}]{SPACE}*)?(?P<label>{alternatives}){SPACE}*{NUMBER_SEPARATOR}?{SPACE}*"
        f"(?P<number>[0-9０-９]+)(?![0-9０-９])(?:{SPACE}*[{close}])?"
    )


def _substitute(match: re.Match[str], mapping: PlaceholderMap) -> str:
    number = int(match.group("number"))  # int() reads full-width digits too
    value = mapping.value_for(match.group("label"), number)
    return match.group() if value is None else value


def restore(text: str, mapping: PlaceholderMap) -> str:
    """Put original values back wherever the model wrote one of this map's placeholders (even mangled).

    Placeholders the map does not know are left as they are.
    """
    if not len(mapping):
        return text
    return placeholder_pattern(mapping.labels).sub(lambda match: _substitute(match, mapping), text)
