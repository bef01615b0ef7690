"""及び/並びに and 又は/若しくは (「公用文作成の考え方」 I-4 and 法令用語の使い方): 並びに joins the
upper level only when 及び joins the lower one, 若しくは the lower level only under 又は; three or more
items are listed with 、 and one 及び/又は before the last (「A、B及びC」, not 「A及びB及びC」)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hiraga.kouyoubun.document import Document, Sentence
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource

SOURCE = RuleSource(KANGAEKATA, "I-4-(2) 及び・並びに、又は・若しくは の使い分け（法令における用法）")
LEVELS = (("並びに", "及び"), ("若しくは", "又は"))  # (the word, the word it needs in the sentence)
# 「A及びB及びC」: the same conjunction twice with a short run of words and no 、 between them
# (the words between are one noun phrase: no 、, no particle, no other conjunction —
# 「Aの管理及び処分又は廃止」 and 「文書又は図画については閲覧又は写し」 are not lists)
REPEATED = {
    word: re.compile(
        rf"{word}((?:(?!及び|並びに|又は|若しくは|その他)[^、。（）「」のはをがにでともへや]){{1,12}}){word}"
    )
    for word in ("及び", "又は")
}
OTHER_LEVEL = {"及び": "並びに", "又は": "若しくは"}


def quoted_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of each outermost 「…」 in ``text``."""
    ranges, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "「":
            start = i if depth == 0 else start
            depth += 1
        elif char == "」" and depth > 0:
            depth -= 1
            if depth == 0:
                ranges.append((start, i + 1))
    return ranges


class ConjunctionLevelRule:
    family = "conjunction"
    name = "接続詞の段階（及び・並びに／又は・若しくは）"

    def check(self, document: Document) -> Iterable[Finding]:
        for sentence in document.sentences:
            yield from self._levels(sentence)
            yield from self._repeated(sentence)

    def _levels(self, sentence: Sentence) -> Iterable[Finding]:
        for word, needed in LEVELS:
            if needed in sentence.text:
                continue
            quoted = quoted_ranges(sentence.text)
            for match in re.finditer(word, sentence.text):
                if any(a <= match.start() < b for a, b in quoted):
                    continue  # a quoted fragment (「第十号並びに…」とする): its other half is elsewhere
                start = sentence.start + match.start()
                yield Finding(
                    start,
                    start + len(word),
                    "conjunction.level",
                    self.name,
                    f"「{word}」は「{needed}」で結んだまとまりを更に大きく結ぶときにだけ使います。"
                    f"この文には「{needed}」がないので「{needed}」とします。",
                    needed,
                    SOURCE,
                )

    def _repeated(self, sentence: Sentence) -> Iterable[Finding]:
        for word, pattern in REPEATED.items():
            if OTHER_LEVEL[word] in sentence.text:
                continue  # two levels in use: 「A及びB並びにC及びD」 is correct
            for match in pattern.finditer(sentence.text):
                start = sentence.start + match.start()
                yield Finding(
                    start,
                    start + len(word),
                    "conjunction.repeated",
                    self.name,
                    f"三つ以上を並べるときは読点で区切り、最後の語の前にだけ「{word}」を置きます（「A、B{word}C」）。",
                    "、",
                    SOURCE,
                )
