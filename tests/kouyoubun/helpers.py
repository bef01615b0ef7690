"""Run the checker and look at findings by rule id, with the text each one covers."""

from __future__ import annotations

from hiraga.kouyoubun.checker import check
from hiraga.kouyoubun.findings import Finding
from hiraga.kouyoubun.registry import CheckOptions


def findings(text: str, family: str | None = None, **options: object) -> list[Finding]:
    chosen = CheckOptions(**options)  # type: ignore[arg-type]
    return [f for f in check(text, chosen).findings if family is None or f.family == family]


def covered(text: str, family: str | None = None, **options: object) -> list[tuple[str, str, str | None]]:
    """(rule id, covered text, suggestion) for each finding."""
    return [(f.rule_id, text[f.start : f.end], f.suggestion) for f in findings(text, family, **options)]
