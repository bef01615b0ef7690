"""The LLM judge: a configurable model (``HIRAGA_EVAL_JUDGE_MODEL``, called through the gateway like
any model call) grades an answer against a rubric on a 1-10 scale. The judge prompt is versioned
(``JUDGE_VERSION`` is stored with each judged item); a judge that is unavailable or answers without
a grade marks the item as a judge error and the run goes on."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from hiraga.evaluation.base import Score

JUDGE_VERSION = "single-v1"
JUDGE_PROMPT = (
    "あなたは行政文書の品質を評価する公平な審査員です。次の採点基準に従い、回答を 1〜10 の整数で採点してください。"
    "最後の行に「評価: N」の形で点数を書いてください。\n\n"
    "[採点基準]\n{rubric}\n\n[質問]\n{prompt}\n\n[参考解答]\n{reference}\n\n[回答]\n{answer}"
)
_GRADE = re.compile(r"(?:評価|score|rating)\s*[:：]\s*\[*\s*(\d{1,2})", re.IGNORECASE)

Ask = Callable[[str], Awaitable[str]]


def judge_prompt(rubric: str, prompt: str, reference: str | None, answer: str) -> str:
    return JUDGE_PROMPT.format(rubric=rubric, prompt=prompt, reference=reference or "（なし）", answer=answer)


def grade_of(verdict: str) -> int | None:
    found = _GRADE.findall(verdict)
    grade = int(found[-1]) if found else None
    return grade if grade is not None and 1 <= grade <= 10 else None


async def judged(ask: Ask, rubric: str, prompt: str, reference: str | None, answer: str) -> Score:
    """The judge's grade scaled to [0, 1]; raises JudgeError when it gives none."""
    verdict = await ask(judge_prompt(rubric, prompt, reference, answer))
    grade = grade_of(verdict)
    if grade is None:
        raise JudgeError(verdict[:200])
    return Score((grade - 1) / 9, {"grade": grade, "judge": JUDGE_VERSION})


class JudgeError(Exception):
    """The judge gave no grade (or could not be reached)."""


PAIRWISE_VERSION = "pairwise-v1"
PAIRWISE_PROMPT = (
    "あなたは公平な審査員です。次の質問への 2 つの回答のどちらが優れているかを、有用性・正確さ・日本語としての"
    "自然さで判断してください。回答の順番や長さに影響されないでください。"
    "最後の行に「判定: A」「判定: B」「判定: 引き分け」のいずれかを書いてください。\n\n"
    "[質問]\n{prompt}\n\n[参考解答]\n{reference}\n\n[回答A]\n{first}\n\n[回答B]\n{second}"
)
_VERDICT = re.compile(r"判定\s*[:：]\s*\[*\s*(A|B|引き分け)")


def verdict_of(text: str) -> str | None:
    found = _VERDICT.findall(text)
    return found[-1] if found else None


async def pairwise(ask: Ask, prompt: str, reference: str | None, first: str, second: str) -> float:
    """How ``second`` fares against ``first``: 1 better, 0.5 tie, 0 worse. The judge sees both
    orders; a preference that flips with the order (position bias) counts as a tie."""
    shown = {"prompt": prompt, "reference": reference or "（なし）"}
    one = verdict_of(await ask(PAIRWISE_PROMPT.format(**shown, first=first, second=second)))
    two = verdict_of(await ask(PAIRWISE_PROMPT.format(**shown, first=second, second=first)))
    if one is None or two is None:
        raise JudgeError("no verdict")
    second_wins = {"B": 1.0, "A": 0.0, "引き分け": 0.5}[one] + {"A": 1.0, "B": 0.0, "引き分け": 0.5}[two]
    return second_wins / 2 if second_wins in (0.0, 2.0) else 0.5
