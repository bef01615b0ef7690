"""算用数字は半角 (「公用文作成の考え方」 I-3-(1)): full-width digits in horizontal text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hiraga.kouyoubun.checks.letter_width import width_findings
from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource

FULL_WIDTH_NUMBER = re.compile(r"[０-９]+(?:[，．][０-９]+)*")
SOURCE = RuleSource(KANGAEKATA, "I-3-(1) 横書きでは算用数字を使う（半角）")


class DigitWidthRule:
    family = "digits"
    name = "算用数字の全角・半角"

    def check(self, document: Document) -> Iterable[Finding]:
        reason = "横書きの算用数字は半角で書きます。"
        return width_findings(FULL_WIDTH_NUMBER, document.text, "digits.full_width", self.name, reason, SOURCE)
