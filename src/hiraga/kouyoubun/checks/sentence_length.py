"""一文の長さ (「公用文作成の考え方」 II-2-(1) 一文を短くする; it suggests about 50–60 characters):
a warning above ``long_chars`` (default 120) and a softer note above ``soft_chars`` (default 80)."""

from __future__ import annotations

from collections.abc import Iterable

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource, Severity

SOURCE = RuleSource(KANGAEKATA, "II-2-(1) 一文を短くする")


class SentenceLengthRule:
    family = "length"
    name = "一文の長さ"

    def __init__(self, long_chars: int = 120, soft_chars: int = 80) -> None:
        self.long_chars = long_chars
        self.soft_chars = min(soft_chars, long_chars)

    def check(self, document: Document) -> Iterable[Finding]:
        for sentence in document.sentences:
            length = len(sentence.text)
            if length > self.long_chars:
                rule_id, severity, limit = "length.long", Severity.WARNING, self.long_chars
            elif length > self.soft_chars:
                rule_id, severity, limit = "length.soft", Severity.INFO, self.soft_chars
            else:
                continue
            yield Finding(
                sentence.start,
                sentence.end,
                rule_id,
                self.name,
                f"一文が{length}字あり、目安の{limit}字を超えています。文を分けることを検討してください。",
                None,
                SOURCE,
                severity,
            )
