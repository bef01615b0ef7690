"""Word usage from the morpheme lists (official list and hiragana lists): kuromoji (IPADIC) token
patterns matched against Sudachi tokens by surface, with the part of speech mapped across."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from hiraga.kouyoubun.dictionaries import MorphemeRule, TokenSpec, morpheme_rules
from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KUNREI, Finding, RuleSource
from hiraga.kouyoubun.morphology import Token

MAX_SPLIT = 3  # Sudachi may cut one IPADIC surface into up to this many tokens
_TE = frozenset({"て", "で"})
# 法令用語 the lists would otherwise break up: 又は (又->また), 若しくは, and 「にかかわらず」,
# which 法令 keep in kana although 関わる joined the 常用漢字表 in 2010
LEGAL_PHRASES = frozenset({("又", "は"), ("若し", "くは")})
# and 「Xと共に」 (together with X) keeps 共に in kanji; only 「…するとともに」 is kana
LEGAL_AFTER = frozenset({("に", "かかわら"), ("も", "かかわら")})
NOUN_ONLY = "動詞の場合、修正しない"  # the list's note on 送り仮名 rules for nouns (貸付け, 取消し)
_NOUN_LIKE = frozenset({"名詞", "代名詞", "形状詞", "接尾辞"})
# IPADIC main POS (and a few details) -> Sudachi main POS
_POS_MAP: dict[str, frozenset[str]] = {
    "名詞": _NOUN_LIKE,
    "動詞": frozenset({"動詞"}),
    "形容詞": frozenset({"形容詞"}),
    "副詞": frozenset({"副詞"}),
    "連体詞": frozenset({"連体詞"}),
    "接続詞": frozenset({"接続詞"}),
    "助詞": frozenset({"助詞"}),
    "助動詞": frozenset({"助動詞"}),
    "接頭詞": frozenset({"接頭辞"}),
    "感動詞": frozenset({"感動詞"}),
    "フィラー": frozenset({"感動詞"}),
    "記号": frozenset({"補助記号", "記号"}),
}
_DETAIL_MAP = {
    ("名詞", "代名詞"): frozenset({"代名詞"}),
    ("名詞", "形容動詞語幹"): frozenset({"形状詞", "名詞"}),
    ("名詞", "接尾"): frozenset({"接尾辞"}),
}


def pos_matches(spec: TokenSpec, token: Token) -> bool:
    if spec.pos is None:
        return True
    wanted = _DETAIL_MAP.get((spec.pos, spec.pos_detail or ""), _POS_MAP.get(spec.pos))
    return wanted is None or token.main_pos in wanted


class MorphemeWordRule:
    family = "morpheme"
    name = "語の表記（形態素辞書）"

    def __init__(self, rules: Sequence[MorphemeRule] | None = None) -> None:
        self._by_surface: dict[str, list[MorphemeRule]] = defaultdict(list)
        for rule in rules if rules is not None else morpheme_rules():
            surfaces = "".join(t.surface or "" for t in rule.tokens if t.surface is not None)
            self._by_surface[surfaces].append(rule)

    def check(self, document: Document) -> Iterable[Finding]:
        for sentence in document.sentences:
            tokens = document.tokens(sentence)
            for i in range(len(tokens)):
                yield from self._at(tokens, i)

    def _at(self, tokens: list[Token], i: int) -> Iterator[Finding]:
        joined = ""
        for k in range(i, min(len(tokens), i + MAX_SPLIT)):
            joined += tokens[k].surface
            for rule in self._by_surface.get(joined, ()):
                if _fits(rule, tokens, i, k + 1):
                    yield _finding(rule, tokens, i, k + 1)
                    return


def _fits(rule: MorphemeRule, tokens: list[Token], start: int, end: int) -> bool:
    surfaced = [s for s in rule.tokens if s.surface is not None]
    context = [s for s in rule.tokens if s.surface is None]
    if len(context) + len(surfaced) != len(rule.tokens) or rule.tokens[: len(context)] != tuple(context):
        return False  # only "context tokens, then surface tokens" shapes are supported
    if start < len(context):
        return False
    if not all(pos_matches(s, t) for s, t in zip(context, tokens[start - len(context) : start], strict=True)):
        return False
    if not pos_matches(surfaced[0], tokens[start]):
        return False
    if end < len(tokens) and (tokens[start].surface, tokens[end].surface) in LEGAL_PHRASES:
        return False
    if start > 0 and (tokens[start - 1].surface, tokens[start].surface) in LEGAL_AFTER:
        return False
    if tokens[start].surface == "と" and start > 0 and tokens[start - 1].main_pos in _NOUN_LIKE:
        return False
    if NOUN_ONLY in rule.message and any(t.main_pos == "動詞" for t in tokens[start:end]):
        return False
    first = surfaced[0]
    if first.pos == "動詞" and first.pos_detail == "非自立":  # auxiliary verb: only right after て/で
        return start > 0 and tokens[start - 1].surface in _TE
    return True


def _finding(rule: MorphemeRule, tokens: list[Token], start: int, end: int) -> Finding:
    flagged_surface = "".join(t.surface or "" for t in rule.flagged_tokens)
    matched = tokens[start:end]
    text = "".join(t.surface for t in matched)
    offset = text.find(flagged_surface) if flagged_surface else 0
    begin = matched[0].start + max(0, offset)
    reason = rule.message or f"「{flagged_surface}」は「{rule.expected}」と書きます。"
    return Finding(
        begin,
        begin + len(flagged_surface or text),
        "morpheme.word",
        MorphemeWordRule.name,
        reason,
        rule.expected,
        RuleSource(f"rules/{rule.list_file}", f"（根拠: {KUNREI} ほか。出典は rules/SOURCES.md）"),
    )
