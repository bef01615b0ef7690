from __future__ import annotations

from hiraga.pii.detectors.bank import BankAccountDetector


def found(text: str) -> list[str]:
    return [finding.value for finding in BankAccountDetector().detect(text)]


def test_account_numbers_in_bank_context() -> None:
    assert found("振込先：みずほ銀行 霞が関支店 普通預金 1234567 名義 ヤマダタロウ") == ["1234567"]
    assert found("当座 ７６５４３２１") == ["７６５４３２１"]
    assert found("ゆうちょ銀行 記号番号 10120-12345671") == ["10120-12345671"]


def test_seven_digit_look_alikes_are_not_accounts() -> None:
    assert found("受付番号 1234567") == []  # no bank context
    assert found("銀行への返済額は 1234567円") == []  # amount
    assert found("銀行 支店 郵便番号 1000013") == []  # postal code
    assert found("口座 1,234,567") == []
    assert found("普通 12345678") == []  # 8 digits


def test_another_numbering_label_after_the_bank_words_wins() -> None:
    assert found("振込先：みずほ銀行 霞が関支店 普通 1234567　文書番号 7654321") == ["1234567"]
    assert found("みずほ銀行 普通口座 番号 1234567") == ["1234567"]
    assert found("みずほ銀行の件\n文書番号 7654321") == []  # other line
