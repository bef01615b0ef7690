"""Counting tokens when the upstream sends no usage, and pricing a call in yen.

The model's own tokenizer is preferred (the embedded runtime has one: pass it as a
``TokenCounter``). For remote models without a tokenizer at hand, ``heuristic_tokens`` is used and
the usage is marked *estimated*. The heuristic is tuned for Japanese and errs on the high side,
because it feeds quotas and budgets:

* each kanji, hiragana, katakana, full-width or other non-Latin character counts as one token
  (current multilingual tokenizers need 0.7-1.3 tokens per Japanese character);
* runs of Latin letters, digits and ASCII punctuation count one token per 4 characters, rounded up
  per run (English averages about 4 characters per token);
* whitespace is free; every chat message adds ``MESSAGE_OVERHEAD_TOKENS`` for its role framing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from hiraga.spine.call import Usage

MESSAGE_OVERHEAD_TOKENS = 4
ASCII_CHARS_PER_TOKEN = 4
YEN_PLACES = Decimal("0.000001")
THOUSAND = Decimal(1000)


class TokenCounter(Protocol):
    def count_tokens(self, text: str) -> int: ...


def heuristic_tokens(text: str) -> int:
    tokens = 0
    ascii_run = 0
    for char in text:
        if char.isspace():
            tokens += math.ceil(ascii_run / ASCII_CHARS_PER_TOKEN)
            ascii_run = 0
        elif ord(char) < 128:
            ascii_run += 1
        else:
            tokens += math.ceil(ascii_run / ASCII_CHARS_PER_TOKEN) + 1
            ascii_run = 0
    return tokens + math.ceil(ascii_run / ASCII_CHARS_PER_TOKEN)


def count_tokens(text: str, counter: TokenCounter | None = None) -> int:
    """Tokens in ``text``: the model's tokenizer when given, else the heuristic."""
    return counter.count_tokens(text) if counter is not None else heuristic_tokens(text)


def count_message_tokens(contents: Iterable[str], counter: TokenCounter | None = None) -> int:
    """Tokens of a chat prompt: each message's text plus its framing overhead."""
    return sum(count_tokens(text, counter) + MESSAGE_OVERHEAD_TOKENS for text in contents)


def estimated_usage(prompt_texts: Iterable[str], completion_text: str, counter: TokenCounter | None = None) -> Usage:
    """Usage counted by hiraga, marked ``estimated``."""
    return Usage(
        input_tokens=count_message_tokens(prompt_texts, counter),
        output_tokens=count_tokens(completion_text, counter),
        estimated=True,
    )


def cost_jpy(usage: Usage, input_price_per_1k: Decimal, output_price_per_1k: Decimal) -> Decimal:
    """What the call cost in yen, to a millionth of a yen."""
    cost = (usage.input_tokens * input_price_per_1k + usage.output_tokens * output_price_per_1k) / THOUSAND
    return cost.quantize(YEN_PLACES, rounding=ROUND_HALF_UP)
