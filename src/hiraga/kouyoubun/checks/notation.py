"""Old and easily confused notations (「公用文作成の考え方」 I-1, I-2 and 公用文における漢字使用等について):
「3ヶ月」「3ケ所」 → 「3か月」「3か所」; 「その外」「申請の外、」 → 「ほか」; the old large つ of
「あつた」「なつて」 → 「あった」「なって」. (Conditional 「とき」 is the kana rule's: checks/kana_usage.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, KUNREI, Finding, RuleSource

COUNTER = re.compile(r"(?<=[0-9０-９一二三四五六七八九十百千何数])[ヶケヵカ](?=[月所年国条])")
HOKA = re.compile(r"(?:その|この|それらの)外|(?<=の)外(?=、|にも)")
LARGE_TSU = re.compile(
    r"(?:[あいうおなよ]|[行言立持待取知思従因使作送払至当向係伴沿基勝打])つ(?=[たて])|かつ(?=た)|したがつて"
)
COUNTER_SOURCE = RuleSource(KANGAEKATA, "I-2-(1) 「か月」「か所」は平仮名の「か」で書く")
HOKA_SOURCE = RuleSource(KUNREI, "2-(1)-ク 「外」は「ほか」と仮名で書く（…の外、その外）")
TSU_SOURCE = RuleSource(KANGAEKATA, "I-2 促音の「っ」は小書きにする（現代仮名遣い）")


class NotationRule:
    family = "notation"
    name = "表記（か月・ほか・促音）"

    def check(self, document: Document) -> Iterable[Finding]:
        text = document.text
        for match in COUNTER.finditer(text):
            yield self._finding(match.start(), match.end(), "counter_ka", "か", COUNTER_SOURCE,
                                f"「{match.group(0)}」は平仮名の「か」で書きます（3か月、5か所）。")  # fmt: skip
        for match in HOKA.finditer(text):
            start = match.end() - 1
            yield self._finding(start, match.end(), "hoka", "ほか", HOKA_SOURCE,
                                "「…の外（ほか）」「その外」の意味の「外」は仮名で「ほか」と書きます。")  # fmt: skip
        for match in LARGE_TSU.finditer(text):
            at = match.start() + match.group(0).index("つ")
            yield self._finding(at, at + 1, "large_tsu", "っ", TSU_SOURCE,
                                "促音は小さい「っ」で書きます（あつた → あった）。")  # fmt: skip

    def _finding(
        self,
        start: int,
        end: int,
        rule: str,
        suggestion: str,
        source: RuleSource,
        reason: str,
    ) -> Finding:
        return Finding(start, end, f"notation.{rule}", self.name, reason, suggestion, source)
