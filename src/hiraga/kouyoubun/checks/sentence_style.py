"""文体の統一 (「公用文作成の考え方」 II-1-(1)): one document uses either ですます体 or である体.
Each sentence ending in 。 is classed by its final predicate; the sentences in the less used style
are reported (a tie goes to the style of the first sentence)."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from hiraga.kouyoubun.document import Document, Sentence
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource, Severity
from hiraga.kouyoubun.morphology import Token

POLITE_FORMS = frozenset({"です", "ます", "下さる", "くださる"})
_TRAILING = frozenset({"助動詞", "助詞", "補助記号", "空白"})
_PREDICATE = frozenset({"動詞", "形容詞", "助動詞"})


class Style(enum.StrEnum):
    POLITE = "ですます体"
    PLAIN = "である体"


def sentence_style(tokens: list[Token]) -> tuple[Style, int] | None:
    """The style of a sentence and the index where its final predicate chain starts, or None for
    sentences without a predicate at the end (体言止め, headings)."""
    i = len(tokens)
    while i > 0 and tokens[i - 1].main_pos in _TRAILING:
        i -= 1
    start = max(0, i - 1)
    while start > 0 and (tokens[start - 1].main_pos == "助動詞" or tokens[start - 1].surface in ("て", "で")):
        start -= 1
    chain = tokens[start:]
    if any(t.dictionary_form in POLITE_FORMS for t in chain):
        return Style.POLITE, start
    if any(t.main_pos in _PREDICATE for t in chain):
        return Style.PLAIN, start
    return None


class SentenceStyleRule:
    family = "style"
    name = "文体の統一（ですます体・である体）"

    def check(self, document: Document) -> Iterable[Finding]:
        classed: list[tuple[Sentence, Style, int]] = []
        for sentence in document.sentences:
            if not sentence.closed:
                continue
            tokens = document.tokens(sentence)
            found = sentence_style(tokens)
            if found is not None:
                classed.append((sentence, found[0], tokens[found[1]].start))
        counts = {style: sum(1 for _, s, _ in classed if s is style) for style in Style}
        if not classed or 0 in counts.values():
            return
        first = classed[0][1]
        main = max(Style, key=lambda s: (counts[s], s is first))
        for sentence, style, ending in classed:
            if style is not main:
                yield Finding(
                    ending,
                    sentence.end - 1,
                    "style.mixed",
                    self.name,
                    f"この文書は主に{main}で書かれていますが、この文は{style}です。文体を{main}にそろえます。",
                    None,
                    RuleSource(KANGAEKATA, "II-1-(1) 文体（ですます体・である体）を統一する"),
                    Severity.WARNING,
                )
