"""The LLM judge: a configurable model (``HIRAGA_EVAL_JUDGE_MODEL``, called through the gateway like
any model call) grades an answer against a rubric on a 1-10 scale. The judge prompt is versioned
(``JUDGE_VERSION`` is stored with each judged item); a judge that is unavailable or answers without
a grade marks the item as a judge error and the run goes on."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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


MULTI_JUDGE_VERSION = "single-multi-v1"
MULTI_JUDGE_PROMPT = (
    "あなたは行政文書の品質を評価する公平な審査員です。次はユーザーと AI アシスタントの 2 往復の会話です。"
    "採点するのは 2 問目への回答だけです。1 問目のやりとりを踏まえているかも含め、次の採点基準に従い"
    " 1〜10 の整数で採点してください。最後の行に「評価: N」の形で点数を書いてください。\n\n"
    "[採点基準]\n{rubric}\n\n[1問目]\n{first_prompt}\n\n[1問目への回答]\n{first_answer}\n\n"
    "[2問目]\n{prompt}\n\n[2問目の参考解答]\n{reference}\n\n[2問目への回答（採点対象）]\n{answer}"
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One question of a conversation, the model's answer and the reference answer (if any)."""

    prompt: str
    answer: str
    reference: str | None = None


async def judged_conversation(ask: Ask, rubric: str, first: Turn, second: Turn) -> Score:
    """A two-turn conversation: the first answer graded alone (``JUDGE_VERSION``), the second in the
    context of the first exchange (``MULTI_JUDGE_VERSION``); the score is the mean of the two grades
    (MT-Bench's average over turns). Raises JudgeError when either grade is missing."""
    one = await judged(ask, rubric, first.prompt, first.reference, first.answer)
    verdict = await ask(
        MULTI_JUDGE_PROMPT.format(
            rubric=rubric,
            first_prompt=first.prompt,
            first_answer=first.answer,
            prompt=second.prompt,
            reference=second.reference or "（なし）",
            answer=second.answer,
        )
    )
    grade = grade_of(verdict)
    if grade is None:
        raise JudgeError(verdict[:200])
    turns = [one.detail["grade"], grade]
    detail = {"grade": sum(turns) / 2, "turn_grades": turns, "judge": f"{JUDGE_VERSION}+{MULTI_JUDGE_VERSION}"}
    return Score((one.value + (grade - 1) / 9) / 2, detail)


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


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """The judge's verdicts on one item in both orders: ``ab`` with A's answer shown first, ``ba``
    with B's first ("A" means the answer shown first is better). None: no verdict."""

    ab: str | None
    ba: str | None

    @property
    def outcome(self) -> float | None:
        """For B: 1 win, 0 loss, 0.5 a tie (called a tie, or a preference that flipped with the
        order); None when the judge gave no verdict."""
        if self.ab is None or self.ba is None:
            return None
        b_wins = {"B": 1.0, "A": 0.0, "引き分け": 0.5}[self.ab] + {"A": 1.0, "B": 0.0, "引き分け": 0.5}[self.ba]
        return b_wins / 2 if b_wins in (0.0, 2.0) else 0.5

    @property
    def position_bias(self) -> bool:
        """The judge preferred whichever answer stood in one place, whatever it said."""
        return self.ab is not None and self.ab == self.ba and self.ab != "引き分け"


async def pairwise(ask: Ask, prompt: str, reference: str | None, first: str, second: str) -> PairVerdict:
    """How ``second`` (B) fares against ``first`` (A): the judge sees both orders."""
    shown = {"prompt": prompt, "reference": reference or "（なし）"}
    ab = verdict_of(await ask(PAIRWISE_PROMPT.format(**shown, first=first, second=second)))
    ba = verdict_of(await ask(PAIRWISE_PROMPT.format(**shown, first=second, second=first)))
    return PairVerdict(ab, ba)
