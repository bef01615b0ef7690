"""Metrics in code: chrF (sacrebleu), exact match and character F1 (SQuAD-style, for Japanese on
characters), the facts of a text (numbers, dates, amounts, article references, names) after
normalising widths, kanji numerals and 和暦, and a bootstrap interval of a mean."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from kanjize import kanji2number

from hiraga.knowledge.tokenise import proper_nouns

if TYPE_CHECKING:
    from sacrebleu.metrics.chrf import CHRF

_KANJI_DIGITS = "〇一二三四五六七八九十百千万億兆"
# a kanji numeral counts as a number only where a counter follows or 第 precedes it (not 「一般」「統一」)
_COUNTERS = "条項号年月日円人件回歳割時分秒個倍週" + "歳階台枚冊章節款目"
_RUN = rf"[〇一二三四五六七八九十百千][{_KANJI_DIGITS}]*"
_KANJI_NUMBER = re.compile(rf"(?<=第){_RUN}|(?<=条の){_RUN}|{_RUN}(?=[{_COUNTERS}]|か月|箇月|ヶ月|パーセント)")
_MYRIADS = re.compile(r"(\d+)(万|億)(?!\d)")
_ERAS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}
_ERA_YEAR = re.compile(r"(明治|大正|昭和|平成|令和)(\d+|元)年")
_DIGIT_GROUPS = re.compile(r"(?<=\d),(?=\d{3})")
_FACT = re.compile(r"第\d+(?:条|項|号)(?:の\d+)?|\d+(?:\.\d+)?(?:[%％]|[年月日円人件回歳割倍])?")
_PUNCT = re.compile(r"[\s\u3000、。，．,.・「」『』（）()\[\]【】！？!?:：;；\"'“”‘’]")


@cache
def _chrf() -> CHRF:
    from sacrebleu.metrics.chrf import CHRF  # imported when first used: most runs score without it

    return CHRF()


def chrf(hypothesis: str, reference: str) -> float:
    """Sentence chrF (sacrebleu's defaults: character 6-grams, β = 2) in [0, 1]."""
    if not reference.strip():
        return 1.0 if not hypothesis.strip() else 0.0
    return float(_chrf().sentence_score(hypothesis, [reference]).score) / 100.0


def normalise(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: the form answers are compared in."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())


def exact_match(prediction: str, references: Sequence[str]) -> float:
    answer = normalise(prediction)
    return 1.0 if any(answer == normalise(ref) for ref in references) else 0.0


def char_f1(prediction: str, references: Sequence[str]) -> float:
    """The best character-level F1 of the prediction against any reference."""
    return max((_f1(normalise(prediction), normalise(ref)) for ref in references), default=0.0)


def _f1(prediction: str, reference: str) -> float:
    common = sum((Counter(prediction) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(reference)
    return 2 * precision * recall / (precision + recall)


def numbers_normalised(text: str) -> str:
    """NFKC, digit groups without commas, kanji numerals with a counter as digits, 和暦 as 西暦."""
    text = _DIGIT_GROUPS.sub("", unicodedata.normalize("NFKC", text))
    text = _KANJI_NUMBER.sub(_kanji_digits, text)
    text = _MYRIADS.sub(lambda m: str(int(m.group(1)) * (10_000 if m.group(2) == "万" else 100_000_000)), text)
    return _ERA_YEAR.sub(lambda m: f"{_ERAS[m.group(1)] + (1 if m.group(2) == '元' else int(m.group(2)))}年", text)


def _kanji_digits(match: re.Match[str]) -> str:
    try:
        return str(kanji2number(match.group(0)))
    except ValueError:  # not a well-formed numeral (「十十」): left as written
        return match.group(0)


def numeric_facts(text: str) -> list[str]:
    """Numbers with their unit (金額・日付・件数), and article references, normalised."""
    return [m.group(0) for m in _FACT.finditer(numbers_normalised(text))]


def name_facts(text: str) -> list[str]:
    """Proper nouns (people, places, organisations), NFKC."""
    return [unicodedata.normalize("NFKC", n) for n in proper_nouns(text) if len(n) > 1]


def bootstrap_interval(
    values: Sequence[float], *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """A percentile bootstrap interval of the mean (seeded: the same scores give the same interval).
    Resamples are drawn in blocks of about a million draws, so a 100,000-item run stays cheap."""
    if not values:
        return (0.0, 0.0)
    if len(values) == 1:
        return (float(values[0]), float(values[0]))
    data = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, 1_000_000 // len(data)))
    means = np.concatenate(
        [
            data[rng.integers(0, len(data), size=(min(block, resamples - done), len(data)))].mean(axis=1)
            for done in range(0, resamples, block)
        ]
    )
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return (float(low), float(high))


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in [0, 1])."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]
