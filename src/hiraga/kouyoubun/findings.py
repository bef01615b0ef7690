"""What a check reports: one ``Finding`` per deviation, with its span in the original text, the
rule that found it, a Japanese reason, a suggested fix and where the rule comes from."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# The documents the rules come from (cited in every finding's ``source``).
KANGAEKATA = "公用文作成の考え方（令和4年1月 文化審議会建議）"
KUNREI = "公用文における漢字使用等について（平成22年内閣訓令第1号）"


class Severity(enum.StrEnum):
    ERROR = "error"  # the rule is clearly broken
    WARNING = "warning"  # probably worth changing (e.g. a long sentence)
    INFO = "info"  # a suggestion


class Origin(enum.StrEnum):
    RULE = "rule"  # rule-based: explainable and reproducible
    MODEL = "model"  # a language model's suggestion: check it yourself


@dataclass(frozen=True, slots=True)
class RuleSource:
    document: str
    section: str = ""

    def __str__(self) -> str:
        return f"{self.document} {self.section}".strip()


@dataclass(frozen=True, slots=True)
class Finding:
    start: int  # character offsets in the original text, end exclusive
    end: int
    rule_id: str  # "<family>.<rule>", e.g. "conjunction.narabini_without_oyobi"
    rule_name: str
    reason: str
    suggestion: str | None  # the replacement for text[start:end]; None when there is no one fix
    source: RuleSource
    severity: Severity = Severity.ERROR
    origin: Origin = Origin.RULE

    @property
    def family(self) -> str:
        return self.rule_id.split(".", 1)[0]

    def shifted(self, offset: int) -> Finding:
        return Finding(
            self.start + offset,
            self.end + offset,
            self.rule_id,
            self.rule_name,
            self.reason,
            self.suggestion,
            self.source,
            self.severity,
            self.origin,
        )
