"""The scorers a private test set may name per item. Each scores an output against the item's
reference (and argument: a regex, or the judge's rubric) in code; ``judge`` is scored by the runner
through the configured judge model (hiraga.evaluation.judge)."""

from __future__ import annotations

import re
from collections.abc import Callable

from hiraga.errors import InvalidInput
from hiraga.evaluation.metrics import chrf, normalise, numeric_facts

SCORERS = ("exact", "contains", "regex", "chrf", "numbers-faithful", "judge")
MAX_PATTERN_CHARS = 500


def _exact(output: str, reference: str, arg: str) -> float:
    return 1.0 if normalise(output) == normalise(reference) else 0.0


def _contains(output: str, reference: str, arg: str) -> float:
    return 1.0 if normalise(reference) in normalise(output) else 0.0


def _regex(output: str, reference: str, arg: str) -> float:
    return 1.0 if re.search(arg, output) else 0.0


def _chrf(output: str, reference: str, arg: str) -> float:
    return chrf(output.strip(), reference.strip())


def _numbers(output: str, reference: str, arg: str) -> float:
    """Every number in the output occurs in the reference (the source), normalised."""
    claimed, allowed = numeric_facts(output), set(numeric_facts(reference))
    return 1.0 - sum(fact not in allowed for fact in claimed) / len(claimed) if claimed else 1.0


CODE_SCORERS: dict[str, Callable[[str, str, str], float]] = {
    "exact": _exact,
    "contains": _contains,
    "regex": _regex,
    "chrf": _chrf,
    "numbers-faithful": _numbers,
}


def check_item_scorer(scorer: str, reference: str | None, arg: str, line: int) -> None:
    """Refuse an item its scorer cannot score (the error names the line)."""
    where = {"line": line, "field": "scorer"}
    if scorer not in SCORERS:
        raise InvalidInput(
            f"{line} 行目: 採点方法「{scorer}」はありません。使えるもの: {', '.join(SCORERS)}",
            code="eval_unknown_scorer",
            detail=where,
        )
    if scorer == "regex":
        if not arg or len(arg) > MAX_PATTERN_CHARS:
            message = f"{line} 行目: regex には正規表現（{MAX_PATTERN_CHARS} 字以内）が必要です。"
            raise InvalidInput(message, detail=where)
        try:
            re.compile(arg)
        except re.error as error:
            raise InvalidInput(f"{line} 行目: 正規表現が正しくありません（{error}）。", detail=where) from None
    elif scorer == "judge":
        if not arg.strip():
            raise InvalidInput(f"{line} 行目: judge には採点基準（rubric）が必要です。", detail=where)
    elif not reference:
        raise InvalidInput(f"{line} 行目: 採点方法 {scorer} には正解（reference）が必要です。", detail=where)


def score_in_code(scorer: str, output: str, reference: str | None, arg: str) -> float:
    return CODE_SCORERS[scorer](output, reference or "", arg)
