"""The word-usage rule lists as data (see rules/SOURCES.md for origins and licences): the prh list
and the morpheme lists of textlint-rule-ja-official-documents, and the hiragana word lists of
lostandfound/textlint-rule-ja-hiragana-*, read once per process.

The hiragana lists are someone's readability advice, not the official rules, so an entry is dropped
when it contradicts the official lists (e.g. 既に→すでに, where the official list wants 既に) or the
exclusions below (usages the statutes and 「公用文作成の考え方」 write in kanji)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]

RULES_PACKAGE = "hiraga.kouyoubun"
OFFICIAL_PRH = "ja-official-documents.prh.yml"
OFFICIAL_MORPHEME = "ja-official-documents.morpheme-dict.json"
HIRAGANA_LISTS = (
    "ja-hiragana-keishikimeishi.json",
    "ja-hiragana-hojodoushi.yml",
    "ja-hiragana-fukushi.yml",
    "ja-hiragana-daimeishi.yml",
)
# Surfaces the official style keeps in kanji in these usages: 上 (…した上で), 時 (a point in time,
# 「…した時から」), 方 (…する方), 度, 毎, 訳 — 「公用文作成の考え方」I-2 and 法令の表記.
# 行っ is also 行う (…を行って), so ～て行っ cannot be told from ～ていっ.
# 物 is also a tangible thing (「記録することができる物」), which 法令 write in kanji.
HIRAGANA_EXCLUDED = frozenset({"上", "時", "方", "度", "毎", "訳", "通り", "行っ", "物"})
# prh patterns that misfire on correct text, with the reason (docs/kouyoubun.md lists them too)
PRH_EXCLUDED: dict[str, str] = {
    "見出し": "名詞「見出し」（条の見出し）は別の語",
    "真に": "「真に（本当に）」は正しい表記",
    "子ども": "法律名（子ども・子育て支援法）や多くの法令・行政文書で用いる表記",
}
NOTE_CURRENT = "H22年"  # the list's mark for a rule from the 2010 常用漢字表 (wins over its reverse)


@dataclass(frozen=True, slots=True)
class WordPattern:
    """One prh rule: a literal ``pattern`` that should read ``expected``."""

    pattern: str
    expected: str
    note: str


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """One token of a morpheme rule, in kuromoji (IPADIC) terms; ``None`` fields match anything."""

    surface: str | None
    pos: str | None
    pos_detail: str | None


@dataclass(frozen=True, slots=True)
class MorphemeRule:
    tokens: tuple[TokenSpec, ...]
    flagged: int | None  # the token the finding covers (None: all the tokens with a surface)
    expected: str
    message: str
    list_file: str

    @property
    def flagged_tokens(self) -> tuple[TokenSpec, ...]:
        if self.flagged is not None:
            return (self.tokens[self.flagged],)
        return tuple(t for t in self.tokens if t.surface is not None)


def _read(name: str) -> Any:
    text = resources.files(RULES_PACKAGE).joinpath("rules", name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


@cache
def word_patterns() -> tuple[WordPattern, ...]:
    """The prh rules; patterns damaged in the source (a '?' for a lost character) are skipped."""
    found = []
    for entry in _read(OFFICIAL_PRH)["rules"]:
        pattern, expected = str(entry["patterns"]), str(entry["expected"])
        if "?" in pattern or not pattern or pattern == expected or pattern in PRH_EXCLUDED:
            continue
        found.append(WordPattern(pattern, expected, str(entry.get("prh") or "")))
    return tuple(_without_reversals(found))


def _without_reversals(patterns: list[WordPattern]) -> list[WordPattern]:
    """The list has a few pairs that undo each other (かんがみ→鑑み and 鑑み→かんがみ): keep the one
    marked as following the 2010 常用漢字表, drop both when neither is."""
    pairs = {(p.pattern, p.expected): p for p in patterns}
    kept = []
    for p in patterns:
        reverse = pairs.get((p.expected, p.pattern))
        if reverse is None or (NOTE_CURRENT in p.note and NOTE_CURRENT not in reverse.note):
            kept.append(p)
    return kept


def _token_spec(raw: dict[str, Any]) -> TokenSpec:
    detail = raw.get("pos_detail_1")
    return TokenSpec(raw.get("surface_form"), raw.get("pos"), None if detail in (None, "*") else detail)


def _morpheme_rules(name: str, entries: list[dict[str, Any]], message: str) -> list[MorphemeRule]:
    rules = []
    for entry in entries:
        tokens = tuple(_token_spec(t) for t in entry["tokens"])
        offset = (entry.get("extensions") or {}).get("offset")
        flagged = None if offset is None else int(offset)
        rules.append(MorphemeRule(tokens, flagged, str(entry["expected"]), str(entry.get("message") or message), name))
    return rules


def _undecidable(rule: MorphemeRule) -> bool:
    """Entries Sudachi cannot decide or that change nothing: a lone 形式名詞 (事→こと but 事を起こす;
    Sudachi has no 非自立 nouns, the context-aware kana rule covers these) and no-op entries."""
    flagged = "".join(t.surface or "" for t in rule.flagged_tokens)
    lone_formal_noun = len(rule.tokens) == 1 and rule.tokens[0].pos == "名詞" and rule.tokens[0].pos_detail == "非自立"
    return lone_formal_noun or flagged == rule.expected


def _contradicts_official(rule: MorphemeRule, kanji_wanted: set[str]) -> bool:
    flagged = "".join(t.surface or "" for t in rule.flagged_tokens)
    return flagged in kanji_wanted or flagged in HIRAGANA_EXCLUDED


@cache
def morpheme_rules() -> tuple[MorphemeRule, ...]:
    """The official morpheme list, then the hiragana lists less the entries that contradict it."""
    official = [r for r in _morpheme_rules(OFFICIAL_MORPHEME, _read(OFFICIAL_MORPHEME), "") if not _undecidable(r)]
    kanji_wanted = {p.expected for p in word_patterns()} | {r.expected for r in official}
    rules = list(official)
    for name in HIRAGANA_LISTS:
        data = _read(name)
        entries, message = (data, "") if isinstance(data, list) else (data["dict"], str(data["message"]))
        rules.extend(r for r in _morpheme_rules(name, entries, message) if not _contradicts_official(r, kanji_wanted))
    return tuple(rules)
