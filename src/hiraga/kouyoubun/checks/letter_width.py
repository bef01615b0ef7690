"""Letters and kana in the right width (「公用文作成の考え方」 I-3 and its 符号の使い方): Latin
letters half-width, katakana never half-width."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource

FULL_WIDTH_LATIN = re.compile(r"[Ａ-Ｚａ-ｚ]+(?:[－・．　][Ａ-Ｚａ-ｚ]+)*")
HALF_WIDTH_KANA = re.compile(r"[ｦ-ﾟ]+")
SOURCE = RuleSource(KANGAEKATA, "I-3 数字・アルファベット・片仮名の表記（全角・半角）")


def width_findings(
    pattern: re.Pattern[str], text: str, rule_id: str, name: str, reason: str, source: RuleSource
) -> Iterator[Finding]:
    """A finding for each run of ``pattern``, suggesting its NFKC form (the other width)."""
    for match in pattern.finditer(text):
        suggestion = unicodedata.normalize("NFKC", match.group()).replace("\u3000", " ")
        yield Finding(match.start(), match.end(), rule_id, name, reason, suggestion, source)


class LetterWidthRule:
    family = "width"
    name = "英字・片仮名の全角・半角"

    def check(self, document: Document) -> Iterable[Finding]:
        text = document.text
        yield from width_findings(
            FULL_WIDTH_LATIN, text, "width.latin", self.name, "アルファベットは半角で書きます。", SOURCE
        )
        yield from width_findings(
            HALF_WIDTH_KANA, text, "width.kana", self.name, "片仮名は全角で書きます（半角片仮名は使いません）。", SOURCE
        )
