"""Run the registered rules over a text: findings in text order, one per place for word usage."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from hiraga.kouyoubun.checks.base import Rule
from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import Finding
from hiraga.kouyoubun.registry import WORD_FAMILIES, CheckOptions, build_rules


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: list[Finding]
    characters: int
    seconds: float

    @property
    def characters_per_second(self) -> float:
        return self.characters / self.seconds if self.seconds > 0 else 0.0


@lru_cache(maxsize=8)
def _rules(options: CheckOptions) -> tuple[Rule, ...]:
    """Rule objects (and the dictionaries behind them) are built once per process and options."""
    return tuple(build_rules(options))


def check(text: str, options: CheckOptions | None = None) -> CheckResult:
    started = time.perf_counter()
    document = Document(text)
    findings: list[Finding] = []
    for rule in _rules(options or CheckOptions()):
        findings.extend(rule.check(document))
    kept = _one_per_place(findings)
    kept.sort(key=lambda f: (f.start, f.end, f.rule_id))
    return CheckResult(kept, len(text), time.perf_counter() - started)


def _one_per_place(findings: list[Finding]) -> list[Finding]:
    """Drop a word-usage finding that overlaps one kept before it (rules run in priority order)."""
    kept: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for finding in findings:
        if finding.family in WORD_FAMILIES:
            if any(finding.start < end and start < finding.end for start, end in taken):
                continue
            taken.append((finding.start, finding.end))
        kept.append(finding)
    return kept
