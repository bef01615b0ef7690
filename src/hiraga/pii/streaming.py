"""Restore placeholders in a streamed answer (SSE deltas) where a placeholder may be split across chunks."""

from __future__ import annotations

import re
from functools import lru_cache

from hiraga.pii.masking import NUMBER_SEPARATOR, OPEN_BRACKETS, SPACE, PlaceholderMap, restore


@lru_cache(maxsize=64)
def _unfinished_placeholder(labels: frozenset[str]) -> re.Pattern[str]:
    """What the tail of the text may look like while a placeholder is still arriving."""
    prefixes = {label[:cut] for label in labels for cut in range(1, len(label))}
    partial = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len, reverse=True))
    full = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    open_ = re.escape(OPEN_BRACKETS)
    return re.compile(
        f"(?:[{open_}]{SPACE}{{0,3}})?"
        f"(?:(?:{full}){SPACE}{{0,3}}{NUMBER_SEPARATOR}?{SPACE}{{0,3}}[0-9０-９]{{0,8}}{SPACE}{{0,3}}"
        f"|{partial}|)"
    )


class StreamingRestorer:
    """``feed(chunk)`` returns restored text that is safe to show now; ``flush()`` returns the rest.

    Only a tail that could still become a placeholder (an opening bracket, a label prefix, a label
    and digits awaiting their closing bracket) is held back — at most a few dozen characters.
    """

    def __init__(self, mapping: PlaceholderMap) -> None:
        self._mapping = mapping
        self._pending = ""

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        if not len(self._mapping):
            ready, self._pending = self._pending, ""
            return ready
        hold_from = self._hold_from(self._pending)
        ready, self._pending = self._pending[:hold_from], self._pending[hold_from:]
        return restore(ready, self._mapping)

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return restore(rest, self._mapping)

    def _hold_from(self, text: str) -> int:
        """Earliest index whose suffix is a possibly unfinished placeholder (len(text) if none)."""
        unfinished = _unfinished_placeholder(self._mapping.labels)
        longest_label = max(len(label) for label in self._mapping.labels)
        window = longest_label + 24  # bracket, spaces, separator, digits
        for start in range(max(0, len(text) - window), len(text)):
            if unfinished.fullmatch(text, start):
                return start
        return len(text)
