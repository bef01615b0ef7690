"""Contact details: Japanese telephone numbers and e-mail addresses."""

from __future__ import annotations

import re

from hiraga.pii.detectors.pattern import PatternDetector, digits_of

_SEP = r"[- ]?"
_PHONE = re.compile(
    r"(?<![0-9+\-])(?:"
    r"\+81[- ]?(?:\(0\))?[1-9][0-9]{0,3}" + _SEP + r"[0-9]{1,4}" + _SEP + r"[0-9]{3,4}"  # +81 3-1234-5678
    r"|\(0[0-9]{1,4}\) ?[0-9]{1,4}" + _SEP + r"[0-9]{3,4}"  # (03)1234-5678
    r"|0[0-9]{1,4}\([0-9]{1,4}\)[0-9]{3,4}"  # 03(1234)5678
    r"|0[0-9]{1,4}[- ][0-9]{1,4}[- ][0-9]{3,4}"  # 03-1234-5678, 0120 123 456
    r"|0[0-9]{9,10}"  # 0312345678, 09012345678
    r")(?![0-9]|-[0-9])"
)

# Leading digits of the national number → how many digits the whole number has (電気通信番号計画).
_ELEVEN_DIGIT_PREFIXES = ("050", "060", "070", "080", "090", "0800")
_TEN_DIGIT_SERVICE_PREFIXES = ("0120", "0570", "0990")


def _national_digits(raw: str) -> str:
    digits = digits_of(raw)
    if raw.startswith("+81"):
        rest = digits[2:]
        return rest if rest.startswith("0") else "0" + rest
    return digits


def plausible_japanese_phone(raw: str) -> bool:
    digits = _national_digits(raw)
    if not digits.startswith("0") or digits.startswith("00"):
        return False
    if digits.startswith(_ELEVEN_DIGIT_PREFIXES):
        return len(digits) == 11
    if digits.startswith(_TEN_DIGIT_SERVICE_PREFIXES):
        return len(digits) == 10
    return len(digits) == 10


class PhoneNumberDetector(PatternDetector):
    """固定・携帯・IP (050)・フリーダイヤル (0120/0800) and +81 forms, hyphens/parentheses/spaces optional."""

    kind = "phone_number"
    label = "電話番号"
    pattern = _PHONE

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        return 1.0 if plausible_japanese_phone(match.group()) else None


class EmailDetector(PatternDetector):
    kind = "email"
    label = "メールアドレス"
    pattern = re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
    )
