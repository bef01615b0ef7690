"""公用文 rewriting: statute sentences from the e-Gov law texts with seeded deviations from the
公用文 rules (但し・且つ・恐れ・予め・全角数字 …). The model is asked to correct the sentence.

Score = (share of the seeded deviations the 公用文 checker no longer finds) × (meaning kept: chrF
of the answer against the clean sentence). A sentence is used only when the checker finds the
seeded deviations, so every item is one the checker can score.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from hiraga.evaluation.base import EvalItem, Score, SuiteSource
from hiraga.evaluation.metrics import chrf
from hiraga.evaluation.suites.laws import interleaved
from hiraga.kouyoubun.checker import check

# (what the rules want, a common deviation from it)
DEVIATIONS = (
    ("ただし", "但し"),
    ("かつ", "且つ"),
    ("おそれ", "恐れ"),
    ("あらかじめ", "予め"),
    ("なお", "尚"),
    ("ことができる", "事が出来る"),
    ("こととする", "事とする"),
    ("まず", "先ず"),
    ("既に", "すでに"),
)
_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
MIN_CHARS, MAX_CHARS = 25, 140
PROMPT = (
    "次の文は公用文の書き方（公用文作成の考え方・公用文における漢字使用等について）に合っていない箇所を含みます。"
    "意味を変えずに正しい書き方に直した文だけを出力してください。説明は不要です。\n\n{sentence}"
)


class KouyoubunRewriteSuite:
    name = "kouyoubun-rewrite"
    title = "公用文の書き直し"
    task = "kouyoubun"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        for article in interleaved(source):
            for index, sentence in enumerate(_sentences(article.text)):
                item_id = f"{article.law_id}:{article.number}:{index}"
                deviant = _deviate(sentence, random.Random(f"{source.seed}:{item_id}"))
                if deviant is None:
                    continue
                clean_count, deviant_count = len(check(sentence).findings), len(check(deviant).findings)
                if deviant_count <= clean_count:
                    continue  # the checker would not see the deviation: not scorable
                meta = {"clean_findings": clean_count, "seeded": deviant_count - clean_count, "deviant": deviant}
                messages = [{"role": "user", "content": PROMPT.format(sentence=deviant)}]
                yield EvalItem(item_id, messages, reference=sentence, meta=meta)

    def score(self, item: EvalItem, output: str) -> Score:
        answer = rewritten(output)
        remaining = max(0, len(check(answer).findings) - int(item.meta["clean_findings"])) if answer else 0
        seeded = int(item.meta["seeded"])
        fixed = 1.0 - min(1.0, remaining / seeded) if answer else 0.0
        meaning = chrf(answer, item.reference or "")
        return Score(fixed * meaning, {"fixed": round(fixed, 4), "chrf": round(meaning, 4), "remaining": remaining})


def _sentences(text: str) -> list[str]:
    """Whole sentences (a 。 inside brackets does not end one) of a usable length, without quotes."""
    found, current, depth = [], "", 0
    for char in text.replace("\n", ""):
        current += char
        depth += (char in "（「") - (char in "）」")
        if char == "。" and depth <= 0:
            found.append(current)
            current, depth = "", 0
    return [s for s in found if MIN_CHARS <= len(s) <= MAX_CHARS and "「" not in s]


def _deviate(sentence: str, rng: random.Random) -> str | None:
    """One or two seeded deviations (and full-width digits where there are digits); None if none applies."""
    usable = [(_word(good), bad) for good, bad in DEVIATIONS if _word(good).search(sentence)]
    if not usable:
        return None
    chosen = rng.sample(usable, k=min(len(usable), rng.choice((1, 2))))
    for good, bad in chosen:
        sentence = good.sub(bad, sentence, count=1)
    return sentence.translate(_DIGITS)


def _word(good: str) -> re.Pattern[str]:
    """``good`` as a word: not the tail of a longer kana run (「なかった」 holds no かつ)."""
    return re.compile(rf"(?<![ぁ-ゖ]){good}")


def rewritten(output: str) -> str:
    """The corrected sentence out of an answer: the first line that is not a label, without quotes."""
    for line in output.strip().splitlines():
        line = re.sub(r"^(修正後|修正文|回答|答え)\s*[:：]\s*", "", line.strip()).strip('「」"` ')
        if line and not line.startswith("```"):
            return line
    return ""
