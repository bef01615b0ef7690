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
    stems = kanji.findall(rule.pattern)
    return bool(stems) and len(rule.expected) < len(rule.pattern) and kanji.findall(rule.expected) == stems


def _verb_keeps_okurigana(rule: WordPattern, tokens: Sequence[Token], start: int) -> bool:
    """Verbs keep their okurigana (賃金を支払い、): the noun rule does not apply to them."""
    first = next((t for t in tokens if t.start == start), None)
    return first is not None and first.main_pos == "動詞" and _okurigana_only(rule)


# 「地位に就いて」「職務に就いて」: 就く (take up a post) is right in kanji; only 「…に就いて（ついて）」 is not
TAKING_UP = frozenset("職位任務役業")
HIRAGANA = re.compile(r"[ぁ-ゖ]")


class PrhWordRule:
    family = "prh"
    name = "用字用語（prh 辞書）"

    def __init__(self, patterns: Sequence[WordPattern] | None = None) -> None:
        chosen = patterns if patterns is not None else word_patterns()
        self._by_pattern = {p.pattern: p for p in chosen}
        self._lengths = sorted({len(p) for p in self._by_pattern}, reverse=True)
        self._first_chars = {p[0] for p in self._by_pattern}

    def check(self, document: Document) -> Iterable[Finding]:
        text = document.text
        for sentence in document.sentences:
            if not any(c in self._first_chars for c in sentence.text):
                continue
            tokens = document.tokens(sentence)
            ends = {t.end for t in tokens}
            after = sentence.start
            for i, token in enumerate(tokens):
                if token.start < after or text[token.start] not in self._first_chars:
                    continue
                for length in self._lengths:
                    rule = self._by_pattern.get(text[token.start : token.start + length])
                    if rule is not None and self._applies(rule, tokens, i, ends):
                        after = token.start + length
                        yield self._finding(rule, token.start, after)
                        break

    @staticmethod
    def _applies(rule: WordPattern, tokens: Sequence[Token], i: int, ends: set[int]) -> bool:
        """The match starts at token ``i``; it must end on a token boundary, or inside a token when
        the pattern ends in kana (an inflection: 洩ら|し, 於て|は)."""
        start = tokens[i].start
        end = start + len(rule.pattern)
        if end not in ends and not HIRAGANA.fullmatch(rule.pattern[-1]):
            return False
        if i > 0 and tokens[i].main_pos == "助動詞" and tokens[i - 1].main_pos == "動詞":
            return False  # inside a verb's chain: さ|せなければ is not 「せなければ」
        if rule.pattern == "に就いて" and i > 0 and tokens[i - 1].surface[-1:] in TAKING_UP:
            return False
        return not _verb_keeps_okurigana(rule, tokens, start)

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
