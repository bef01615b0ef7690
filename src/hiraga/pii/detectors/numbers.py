"""Identification numbers whose last/first digit is a check digit: マイナンバー, 法人番号, card numbers."""

from __future__ import annotations

import re

from hiraga.pii.detectors.pattern import (
    DIGIT_BOUNDARY_AFTER,
    DIGIT_BOUNDARY_BEFORE,
    PatternDetector,
    digits_of,
    preceding,
)


def my_number_check_digit(first_eleven: str) -> int:
    """個人番号の検査用数字 (個人番号の検査用数字の算出方法, 総務省令).

    P_n is the n-th digit counting from the right of the eleven digits, Q_n = n+1 (n ≤ 6) or n-5 (n ≥ 7);
    r = ΣP_n·Q_n mod 11; the check digit is 0 when r ≤ 1, else 11 - r.
    """
    total = 0
    for n, char in enumerate(reversed(first_eleven), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(char) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def corporate_number_check_digit(base_twelve: str) -> int:
    """法人番号の検査用数字 (leading digit): 9 - (ΣP_n·Q_n mod 9), Q_n = 1 for odd n, 2 for even n from the right."""
    total = sum(int(char) * (1 if n % 2 else 2) for n, char in enumerate(reversed(base_twelve), start=1))
    return 9 - total % 9


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class MyNumberDetector(PatternDetector):
    kind = "my_number"
    label = "マイナンバー"
    pattern = re.compile(DIGIT_BOUNDARY_BEFORE + r"[0-9]{4}([- ]?)[0-9]{4}\1[0-9]{4}" + DIGIT_BOUNDARY_AFTER)

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        digits = digits_of(match.group())
        return 1.0 if my_number_check_digit(digits[:11]) == int(digits[11]) else None


class CorporateNumberDetector(PatternDetector):
    kind = "corporate_number"
    label = "法人番号"
    pattern = re.compile(r"(?<![0-9A-Za-z])T?(?P<value>[1-9][0-9]{12})(?![0-9])")

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        digits = match.group("value")
        if corporate_number_check_digit(digits[1:]) != int(digits[0]):
            return None
        context = preceding(text, match.start(), 12)
        return 0.95 if ("法人番号" in context or "登録番号" in context or match.group().startswith("T")) else 0.7


_CARD_CONTEXT = ("カード", "card", "クレジット", "会員番号", "VISA", "Visa", "JCB", "Master", "AMEX")


def _card_grouping(written: str) -> bool:
    """Printed groupings: none, 4-4-4-4(-3) with a shorter last group, or 4-6-5 / 4-6-4 (Amex, Diners)."""
    separators = set(re.findall(r"[- ]", written))
    if not separators:
        return True
    if len(separators) > 1:
        return False
    lengths = [len(group) for group in re.split(r"[- ]", written)]
    return all(length == 4 for length in lengths[:-1]) or lengths in ([4, 6, 5], [4, 6, 4])


class CardNumberDetector(PatternDetector):
    """13–19 digits (spaces or hyphens allowed) with a valid Luhn sum and a card-issuer major industry digit."""

    kind = "card_number"
    label = "カード番号"
    pattern = re.compile(DIGIT_BOUNDARY_BEFORE + r"[2-6][0-9](?:[- ]?[0-9]){11,17}" + DIGIT_BOUNDARY_AFTER)

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        digits = digits_of(match.group())
        if not 13 <= len(digits) <= 19 or not luhn_valid(digits) or not _card_grouping(match.group()):
            return None
        context = preceding(text, match.start(), 20)
        return 0.9 if any(word in context for word in _CARD_CONTEXT) else 0.6
