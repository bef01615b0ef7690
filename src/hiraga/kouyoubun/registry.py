"""The one place the rule classes are registered, in priority order: where two word-usage rules
flag overlapping text, the earlier one's finding is kept."""

from __future__ import annotations

from dataclasses import dataclass

from hiraga.kouyoubun.checks.base import Rule
from hiraga.kouyoubun.checks.brackets import BracketRule
from hiraga.kouyoubun.checks.conjunction_levels import ConjunctionLevelRule
from hiraga.kouyoubun.checks.digit_width import DigitWidthRule
from hiraga.kouyoubun.checks.kana_usage import KanaUsageRule
from hiraga.kouyoubun.checks.letter_width import LetterWidthRule
from hiraga.kouyoubun.checks.morpheme_words import MorphemeWordRule
from hiraga.kouyoubun.checks.notation import NotationRule
from hiraga.kouyoubun.checks.prh_words import PrhWordRule
from hiraga.kouyoubun.checks.sentence_length import SentenceLengthRule
from hiraga.kouyoubun.checks.sentence_style import SentenceStyleRule

# families whose findings are about the same thing (how a word is written): one finding per place
WORD_FAMILIES = ("notation", "kana", "prh", "morpheme")


@dataclass(frozen=True, slots=True)
class CheckOptions:
    long_sentence_chars: int = 120
    soft_sentence_chars: int = 80
    families: frozenset[str] | None = None  # None: every family


def rule_families() -> dict[str, str]:
    """family -> Japanese name, for documentation and the API."""
    return {rule.family: rule.name for rule in build_rules(CheckOptions())}


def build_rules(options: CheckOptions) -> list[Rule]:
    rules: list[Rule] = [
        NotationRule(),
        KanaUsageRule(),
        PrhWordRule(),
        MorphemeWordRule(),
        ConjunctionLevelRule(),
        DigitWidthRule(),
        LetterWidthRule(),
        BracketRule(),
        SentenceStyleRule(),
        SentenceLengthRule(options.long_sentence_chars, options.soft_sentence_chars),
    ]
    return [r for r in rules if options.families is None or r.family in options.families]
