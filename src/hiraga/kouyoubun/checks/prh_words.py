"""Word usage from the prh list of textlint-rule-ja-official-documents: literal patterns, matched
only where both ends fall on Sudachi token boundaries (so 所が、 does not fire inside 場所が、)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from hiraga.kouyoubun.dictionaries import OFFICIAL_PRH, WordPattern, word_patterns
from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KUNREI, Finding, RuleSource
from hiraga.kouyoubun.morphology import Token

AVOID = "××"  # the list's mark for "do not use this word"


def _okurigana_only(rule: WordPattern) -> bool:
    """A 送り仮名 rule for nouns (売り払い→売払い, 支払い→支払): only kana dropped."""
    kanji = re.compile(r"[^ぁ-ゖ]")
    return len(rule.expected) < len(rule.pattern) and kanji.findall(rule.expected) == kanji.findall(rule.pattern)


def _verb_keeps_okurigana(rule: WordPattern, tokens: Sequence[Token], start: int) -> bool:
    """Verbs keep their okurigana (賃金を支払い、): the noun rule does not apply to them."""
    first = next((t for t in tokens if t.start == start), None)
    return first is not None and first.main_pos == "動詞" and _okurigana_only(rule)


class PrhWordRule:
    family = "prh"
    name = "用字用語（prh 辞書）"

    def __init__(self, patterns: Sequence[WordPattern] | None = None) -> None:
        chosen = patterns if patterns is not None else word_patterns()
        self._by_pattern = {p.pattern: p for p in chosen}
        ordered = sorted(self._by_pattern, key=len, reverse=True)
        self._regex = re.compile("|".join(re.escape(p) for p in ordered))

    def check(self, document: Document) -> Iterable[Finding]:
        for sentence in document.sentences:
            matches = list(self._regex.finditer(sentence.text))
            if not matches:
                continue
            tokens = document.tokens(sentence)
            bounds = {t.start for t in tokens} | {t.end for t in tokens}
            for match in matches:
                start, end = sentence.start + match.start(), sentence.start + match.end()
                rule = self._by_pattern[match.group()]
                if start in bounds and end in bounds and not _verb_keeps_okurigana(rule, tokens, start):
                    yield self._finding(rule, start, end)

    def _finding(self, rule: WordPattern, start: int, end: int) -> Finding:
        if rule.expected == AVOID:
            reason, suggestion = f"「{rule.pattern}」は公用文では使わない語です。易しい言葉に言い換えてください。", None
        elif rule.expected.startswith("〔"):
            suggestion = rule.expected.strip("〔〕")
            reason = f"「{rule.pattern}」は「{suggestion}」などに言い換えます。"
        else:
            reason, suggestion = f"「{rule.pattern}」は「{rule.expected}」と書きます。", rule.expected
        if rule.note:
            reason += rule.note
        return Finding(
            start,
            end,
            "prh.word",
            self.name,
            reason,
            suggestion,
            RuleSource(f"rules/{OFFICIAL_PRH}", f"（根拠: {KUNREI}、法令における漢字使用等について ほか）"),
        )
