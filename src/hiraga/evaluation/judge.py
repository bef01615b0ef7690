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
