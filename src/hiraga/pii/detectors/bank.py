"""Bank account numbers: a 7-digit number in the context of 銀行/支店/普通/当座/口座, and ゆうちょ 記号番号."""

from __future__ import annotations

import re

from hiraga.pii.detectors.pattern import PatternDetector, preceding

_ACCOUNT_CONTEXT = re.compile(r"普通|当座|貯蓄|総合|口座|銀行|支店|信用金庫|信金|信用組合|労働金庫|農協|JA")
# Another numbering label between the bank words and the number means it is not the account number.
_OTHER_LABEL = re.compile(r"(?<!口座)(?<!口座 )番号|品番|No\.?|内線|電話|TEL|FAX|〒")
_YUCHO_CONTEXT = re.compile(r"ゆうちょ|記号|振替")


class BankAccountDetector(PatternDetector):
    """口座番号 (7 digits) within about thirty characters after a bank word; ゆうちょ 記号番号 (5 + 8 digits)."""

    kind = "bank_account"
    label = "口座番号"
    pattern = re.compile(
        r"(?<![0-9,.\-])(?:(?P<yucho>[0-9]{5}-[0-9]{1,8})|(?P<account>[0-9]{7}))(?![0-9]|[,.][0-9]|-[0-9]| ?円)"
    )

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        context = preceding(text, match.start(), 30).rsplit("\n", 1)[-1]  # same line only
        if match.group("yucho"):
            return 0.95 if _YUCHO_CONTEXT.search(context) else None
        if "郵便" in preceding(text, match.start(), 8) or context.endswith("〒"):
            return None
        bank_words = list(_ACCOUNT_CONTEXT.finditer(context))
        if not bank_words:
            return None
        other_labels = list(_OTHER_LABEL.finditer(context))
        if other_labels and other_labels[-1].start() > bank_words[-1].start():
            return None
        return 0.9
