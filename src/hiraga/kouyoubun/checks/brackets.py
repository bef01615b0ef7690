"""括弧 (「公用文作成の考え方」 I-5-(2) 括弧の使い方): every bracket closed by its own partner, and
「」 inside 「」 written 『』. Checked line by line (a paragraph per line)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, Finding, RuleSource

PAIRS = {"（": "）", "「": "」", "『": "』", "【": "】", "〔": "〕", "［": "］", "｛": "｝", "(": ")", "[": "]"}
CLOSING = {close: open_ for open_, close in PAIRS.items()}
SOURCE = RuleSource(KANGAEKATA, "I-5-(2) 括弧の使い方（「」の中の「」は『』）")


@dataclass(frozen=True, slots=True)
class _Open:
    char: str
    at: int


class BracketRule:
    family = "bracket"
    name = "括弧の対応と入れ子"

    def check(self, document: Document) -> Iterable[Finding]:
        offset = 0
        for line in document.text.split("\n"):
            yield from self._line(line, offset)
            offset += len(line) + 1

    def _line(self, line: str, offset: int) -> Iterator[Finding]:
        stack: list[_Open] = []
        for i, char in enumerate(line):
            if char in PAIRS:
                if char == "「" and self._misnested(line, stack, i):
                    yield self._nested(line, offset, i)
                stack.append(_Open(char, i))
            elif char in CLOSING:
                if stack and stack[-1].char == CLOSING[char]:
                    stack.pop()
                elif any(o.char == CLOSING[char] for o in stack):  # closes an outer one: inner left open
                    while stack[-1].char != CLOSING[char]:
                        inner = stack.pop()
                        if char != "」":  # a quotation may quote a fragment (「…事務（第十九条」とある)
                            yield self._unclosed(inner, offset)
                    stack.pop()
                else:
                    yield self._finding(
                        offset + i,
                        offset + i + 1,
                        "bracket.unopened",
                        f"閉じ括弧「{char}」に対応する「{CLOSING[char]}」がありません。",
                        None,
                    )
        for unclosed in stack:
            yield self._unclosed(unclosed, offset)

    @staticmethod
    def _misnested(line: str, stack: list[_Open], at: int) -> bool:
        """A 「 inside a 「 that is itself closed (else the missing 」 is the one fault), unless a
        statute is quoting a definition."""
        outer = next((o for o in reversed(stack) if o.char == "「"), None)
        return outer is not None and _partner(line, outer.at) is not None and not _quoted_definition(line, at)

    def _nested(self, line: str, offset: int, at: int) -> Finding:
        close = _partner(line, at)
        end = close + 1 if close is not None else at + 1
        inner = line[at:end]
        fixed = "『" + inner[1:-1] + "』" if close is not None else "『"
        return self._finding(
            offset + at,
            offset + end,
            "bracket.nested",
            "かぎ括弧の中で更にかぎ括弧を使うときは『』（二重かぎ括弧）にします。",
            fixed,
        )

    def _unclosed(self, opened: _Open, offset: int) -> Finding:
        return self._finding(
            offset + opened.at,
            offset + opened.at + 1,
            "bracket.unclosed",
            f"括弧「{opened.char}」が閉じられていません（「{PAIRS[opened.char]}」がありません）。",
            None,
        )

    def _finding(self, start: int, end: int, rule_id: str, reason: str, suggestion: str | None) -> Finding:
        return Finding(start, end, rule_id, self.name, reason, suggestion, SOURCE)


def _quoted_definition(line: str, at: int) -> bool:
    """「…（以下「審理員」という。）」とあるのは: a statute quoting a definition keeps its 「」."""
    close = _partner(line, at)
    return close is not None and line.startswith("という", close + 1)


def _partner(line: str, at: int) -> int | None:
    """Where the 「 at ``at`` is closed (counting nested 「」), or None."""
    depth = 0
    for i in range(at, len(line)):
        if line[i] == "「":
            depth += 1
        elif line[i] == "」":
            depth -= 1
            if depth == 0:
                return i
    return None
