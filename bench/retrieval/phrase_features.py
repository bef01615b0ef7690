"""Phrase features for the reranker study: how long the runs of the question's own characters are
that a passage (or one of its sentences) repeats verbatim.

Questions written against one paragraph tend to copy phrases from the sentence that holds the
answer; a sibling paragraph of the same article shares the topic words but rarely the phrases.
"""

from __future__ import annotations

import re

_WORD_RUNS = re.compile(r"\w+")


def longest_shared_run(query: str, text: str) -> int:
    """Length of the longest substring of ``query`` that occurs in ``text`` (binary search on the
    length: a shared run of length k implies one of every shorter length)."""
    low, high = 0, len(query)
    while low < high:
        length = (low + high + 1) // 2
        if any(query[i : i + length] in text for i in range(len(query) - length + 1)):
            low = length
        else:
            high = length - 1
    return low


def run_coverage(query: str, text: str, minimum: int = 3) -> float:
    """Share of the query's word characters covered by runs of at least ``minimum`` characters that
    ``text`` repeats; a run is grown greedily from each uncovered start."""
    runs = _WORD_RUNS.findall(query)
    total = sum(len(r) for r in runs) or 1
    covered = 0
    for run in runs:
        start = 0
        while start < len(run):
            length = 0
            while start + length < len(run) and run[start : start + length + 1] in text:
                length += 1
            if length >= minimum:
                covered += length
                start += length
            else:
                start += 1
    return covered / total


def trigram_share(query: str, text: str) -> float:
    """Share of the query's character trigrams (inside word runs) found in ``text``."""
    grams = {r[i : i + 3] for r in _WORD_RUNS.findall(query) for i in range(len(r) - 2)}
    if not grams:
        return 0.0
    return sum(g in text for g in grams) / len(grams)
