"""算用数字は半角 (「公用文作成の考え方」 I-3-(1)): full-width digits in horizontal text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource

FULL_WIDTH_NUMBER = re.compile(r"[０-９]+(?:[，．][０-９]+)*")


class DigitWidthRule:
    family = "digits"
    name = "算用数字の全角・半角"

    def check(self, document: Document) -> Iterable[Finding]:
        for match in FULL_WIDTH_NUMBER.finditer(document.text):
            yield Finding(
                match.start(),
                match.end(),
                "digits.full_width",
                self.name,
                "横書きの算用数字は半角で書きます。",
                unicodedata.normalize("NFKC", match.group()),
                RuleSource(KANGAEKATA, "I-3-(1) 横書きでは算用数字を使う（半角）"),
            )
