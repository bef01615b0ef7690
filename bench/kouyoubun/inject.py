"""Seed known deviations into real statute sentences, one rule class at a time.

Written from the rules' definitions (「公用文作成の考え方」, the prh list as data), independently of
the checker: nothing here imports hiraga.kouyoubun. Each seeded item is a text and the places
(class, start, end) where a deviation was put; the checker must find each place with a finding of
the same class, and any other finding counts against its class's precision."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PRH_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "kouyoubun-rules" / "ja-official-documents.prh.yml"
WORDING, CONJUNCTION, DIGITS, WIDTH, BRACKET, STYLE, LENGTH = (
    "表記（漢字・仮名・用字用語）",
    "接続詞の段階",
    "算用数字の全角・半角",
    "英字・片仮名の全角・半角",
    "括弧",
    "文体の統一",
    "一文の長さ",
)


@dataclass
class Seeded:
    kind: str  # how the deviation was made
    text: str
    places: list[tuple[str, int, int]] = field(default_factory=list)  # (class, start, end)


def _replace_at(
    text: str, start: int, end: int, new: str, kind: str, cls: str, mark: tuple[int, int] | None = None
) -> Seeded:
    """Replace text[start:end] with ``new``; the seeded place is ``mark`` within ``new`` (default all)."""
    a, b = mark if mark is not None else (0, len(new))
    return Seeded(kind, text[:start] + new + text[end:], [(cls, start + a, start + b)])


# -- 表記 ----------------------------------------------------------------------------------------
def _prh_pairs() -> list[tuple[str, str]]:
    """(expected, deviation) from the prh list where the right form is an ordinary word of 2+ chars."""
    rules = yaml.safe_load(PRH_FILE.read_text(encoding="utf-8"))["rules"]
    pairs = []
    for rule in rules:
        right, wrong = str(rule["expected"]), str(rule["patterns"])
        if len(right) >= 2 and not re.search(r"[〔×?、（]", right + wrong) and right != wrong:
            pairs.append((right, wrong))
    return pairs


PRH_PAIRS = _prh_pairs()


def word_from_list(text: str, rng: random.Random) -> Seeded | None:
    usable = [(r, w) for r, w in PRH_PAIRS if r in text and w not in text]
    if not usable:
        return None
    right, wrong = rng.choice(usable)
    at = text.index(right)
    return _replace_at(text, at, at + len(right), wrong, "prh の語", WORDING)


# 形式名詞・補助動詞 (考え方 I-2): the kana form in the statute, the kanji form seeded
KANA_TO_KANJI = [
    (r"(?<=[るたい])こと(?=[がをはに])", "事"),
    (r"(?<=[るた])ところ(?=により|による|に従い)", "所"),
    (r"(?<=[るた])とき(?=は)", "時"),
    (r"(?<=て)おか(?=なければ)", "置か"),
    (r"(?<=て)いる", "居る"),
]


def formal_word(text: str, rng: random.Random) -> Seeded | None:
    options = [(m, kanji) for pattern, kanji in KANA_TO_KANJI for m in re.finditer(pattern, text)]
    if not options:
        return None
    match, kanji = rng.choice(options)
    return _replace_at(text, match.start(), match.end(), kanji, "形式名詞・補助動詞", WORDING)


# -- 及び・並びに／又は・若しくは ------------------------------------------------------------------
def lone_upper_conjunction(text: str, rng: random.Random) -> Seeded | None:
    """The only 及び (no 並びに) becomes 並びに; the only 又は (no 若しくは) becomes 若しくは."""
    options = [
        (low, up) for low, up in (("及び", "並びに"), ("又は", "若しくは")) if text.count(low) == 1 and up not in text
    ]
    if not options:
        return None
    low, up = rng.choice(options)
    at = text.index(low)
    return _replace_at(text, at, at + len(low), up, "並びに・若しくはの単独使用", CONJUNCTION)


LIST_OF_THREE = re.compile(r"、([一-龥ァ-ヶー]{1,10})(及び|又は)([一-龥ァ-ヶー]{1,10})")


def repeated_conjunction(text: str, rng: random.Random) -> Seeded | None:
    """「A、B及びC」 → 「A及びB及びC」."""
    matches = [
        m for m in LIST_OF_THREE.finditer(text) if ("並びに" if m.group(2) == "及び" else "若しくは") not in text
    ]
    if not matches:
        return None
    match = rng.choice(matches)
    return _replace_at(text, match.start(), match.start() + 1, match.group(2), "同じ接続詞の繰り返し", CONJUNCTION)


# -- 数字・英字・片仮名 -----------------------------------------------------------------------------
KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}


def kanji_number(numeral: str) -> int:
    total, current = 0, 0
    for char in numeral:
        if char in KANJI_DIGITS:
            current = KANJI_DIGITS[char]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[char]
            total += (current or 1) * unit
            current = 0
    return total + current


def full_width_digits(text: str, rng: random.Random) -> Seeded | None:
    matches = list(re.finditer(r"(?<=第)[一二三四五六七八九十百千]+(?=[条項号])", text))
    if not matches:
        return None
    match = rng.choice(matches)
    digits = "".join(chr(ord(d) - ord("0") + ord("０")) for d in str(kanji_number(match.group())))
    return _replace_at(text, match.start(), match.end(), digits, "漢数字を全角算用数字に", DIGITS)


HALF_KANA = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFFA0)}
HALF_KANA |= {unicodedata.normalize("NFKC", h + "ﾞ"): h + "ﾞ" for h in list(HALF_KANA.values())}
HALF_KANA |= {unicodedata.normalize("NFKC", h + "ﾟ"): h + "ﾟ" for h in "ﾊﾋﾌﾍﾎ"}


def half_width_katakana(text: str, rng: random.Random) -> Seeded | None:
    words = [m for m in re.finditer(r"[ァ-ヶー]{2,}", text) if all(c in HALF_KANA for c in m.group())]
    if not words:
        return None
    match = rng.choice(words)
    return _replace_at(
        text, match.start(), match.end(), "".join(HALF_KANA[c] for c in match.group()), "半角片仮名", WIDTH
    )


def full_width_latin(text: str, rng: random.Random) -> Seeded | None:
    at = text.find("、")
    if at < 0:
        return None
    word = rng.choice(["ＩＣＴ", "ＡＩ", "Ｗｅｂ", "ＤＸ", "ＰＤＦ"])
    return _replace_at(text, at + 1, at + 1, word + "を活用し、", "全角英字", WIDTH, (0, len(word)))


# -- 括弧 ------------------------------------------------------------------------------------------
def _top_level_pairs(text: str, opener: str, closer: str) -> list[tuple[int, int]]:
    """(open, close) of bracket pairs with no bracket inside and none around them."""
    pairs = []
    for m in re.finditer(rf"{opener}[^（）「」『』]*{closer}", text):
        before = text[: m.start()]
        if before.count("（") == before.count("）") and before.count("「") == before.count("」"):
            pairs.append((m.start(), m.end() - 1))
    return pairs


def unbalanced_bracket(text: str, rng: random.Random) -> Seeded | None:
    pairs = [(o, c, "（") for o, c in _top_level_pairs(text, "（", "）")]
    pairs += [(o, c, "「") for o, c in _top_level_pairs(text, "「", "」")]
    if not pairs:
        return None
    open_at, close_at, _ = rng.choice(pairs)
    if rng.random() < 0.5:  # drop the closer: the opener is left open
        return Seeded("閉じ括弧の欠落", text[:close_at] + text[close_at + 1 :], [(BRACKET, open_at, open_at + 1)])
    dropped = text[:open_at] + text[open_at + 1 :]  # drop the opener: the closer has no partner
    return Seeded("開き括弧の欠落", dropped, [(BRACKET, close_at - 1, close_at)])


def nested_quote(text: str, rng: random.Random) -> Seeded | None:
    pairs = [(o, c) for o, c in _top_level_pairs(text, "「", "」") if c - o >= 5]
    if not pairs:
        return None
    open_at, close_at = rng.choice(pairs)
    middle = (open_at + 1 + close_at) // 2
    new = text[:middle] + "「" + text[middle:close_at] + "」" + text[close_at:]
    return Seeded("「」の中の「」", new, [(BRACKET, middle, close_at + 2)])


INJECTORS: dict[str, Callable[[str, random.Random], Seeded | None]] = {
    "prh": word_from_list,
    "formal": formal_word,
    "lone_conjunction": lone_upper_conjunction,
    "repeated_conjunction": repeated_conjunction,
    "digits": full_width_digits,
    "half_kana": half_width_katakana,
    "latin": full_width_latin,
    "unbalanced": unbalanced_bracket,
    "nested_quote": nested_quote,
}
