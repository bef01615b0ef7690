"""Run detectors over a text and resolve overlapping findings deterministically."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

from hiraga.pii.base import Finding, PiiDetector


def _priority(finding: Finding) -> tuple[int, float, int, str]:
    # Longest span first, then the more confident (more specific) detector, then position and kind
    # so that the outcome never depends on detector order.
    return (-finding.length, -finding.confidence, finding.start, finding.kind)


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep a set of non-overlapping findings, longest/most-specific first; return them in text order."""
    kept: list[Finding] = []  # non-overlapping, sorted by start (hence also by end)
    starts: list[int] = []
    for candidate in sorted(set(findings), key=_priority):
        index = bisect_left(starts, candidate.start)
        if index > 0 and kept[index - 1].end > candidate.start:
            continue
        if index < len(kept) and kept[index].start < candidate.end:
            continue
        kept.insert(index, candidate)
        starts.insert(index, candidate.start)
    return kept


def scan(text: str, detectors: Sequence[PiiDetector]) -> list[Finding]:
    """All PII in ``text`` found by ``detectors``, without overlaps, in text order."""
    if not text:
        return []
    return resolve_overlaps(finding for detector in detectors for finding in detector.detect(text))
