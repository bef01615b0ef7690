"""Fitting text into a model's context window, and saying what was left out.

Token counts are the gateway's estimate (one token per CJK character, about four characters per
token otherwise): conservative for Japanese, so a fitted prompt does not overflow the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hiraga.gateway.protocol import estimate_tokens

DEFAULT_WINDOW = 4096
MESSAGE_OVERHEAD = 8  # role markers and separators per message
SAFETY_MARGIN = 64


def _cost(ch: str) -> float:
    return 1.0 if ord(ch) >= 0x3000 else 0.25


def cut_to_tokens(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose estimate fits ``budget`` tokens."""
    if budget <= 0:
        return ""
    if estimate_tokens(text) <= budget:
        return text
    spent = 0.0
    for index, ch in enumerate(text):
        spent += _cost(ch)
        if spent > budget:
            return text[:index]
    return text


def input_budget(window: int | None, max_output_tokens: int) -> int:
    """Tokens left for the prompt once the answer's room is reserved."""
    return max(0, (window or DEFAULT_WINDOW) - max_output_tokens - SAFETY_MARGIN)


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str


@dataclass(slots=True)
class FittedPrompt:
    messages: list[dict[str, str]]
    notices: list[str] = field(default_factory=list)
    dropped_turns: int = 0


def fit_turns(system: str, turns: Sequence[Turn], budget: int) -> FittedPrompt:
    """System prompt and the newest turn always; older turns newest-first while they fit. The
    newest turn itself is cut at the end when even it does not fit (and the user is told)."""
    if not turns:
        raise ValueError("no turns")
    notices: list[str] = []
    left = budget - (estimate_tokens(system) + MESSAGE_OVERHEAD if system else 0)
    newest = turns[-1]
    content = cut_to_tokens(newest.content, left - MESSAGE_OVERHEAD)
    if len(content) < len(newest.content):
        notices.append(
            f"入力が長すぎるため、全 {len(newest.content):,} 文字のうち"
            f"先頭 {len(content):,} 文字だけをモデルに渡しました。"
        )
    left -= estimate_tokens(content) + MESSAGE_OVERHEAD
    kept: list[Turn] = []
    for turn in reversed(turns[:-1]):
        cost = estimate_tokens(turn.content) + MESSAGE_OVERHEAD
        if cost > left:
            break
        kept.append(turn)
        left -= cost
    dropped = len(turns) - 1 - len(kept)
    if dropped:
        notices.append(f"文脈の長さに収まらないため、古いやり取り {dropped} 件をモデルに渡していません。")
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": t.role, "content": t.content} for t in reversed(kept)]
    messages.append({"role": newest.role, "content": content})
    return FittedPrompt(messages=messages, notices=notices, dropped_turns=dropped)


def share_budget(texts: Sequence[str], budget: int) -> list[int]:
    """Split ``budget`` tokens between texts: short ones whole, the rest share what is left evenly."""
    shares = [0] * len(texts)
    pending = sorted(range(len(texts)), key=lambda i: estimate_tokens(texts[i]))
    left = budget
    while pending:
        fair = left // len(pending)
        index = pending.pop(0)
        need = estimate_tokens(texts[index])
        shares[index] = min(need, fair)
        left -= shares[index]
    return shares
