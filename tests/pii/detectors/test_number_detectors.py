"""マイナンバー, 法人番号 and card numbers: check digits computed here from the official definitions."""

from __future__ import annotations

import random

import pytest

from hiraga.pii.detectors.numbers import CardNumberDetector, CorporateNumberDetector, MyNumberDetector

# 個人番号の検査用数字: weights of the eleven digits read left to right (Q_n with n counted from the right).
MY_NUMBER_WEIGHTS_LEFT_TO_RIGHT = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def official_my_number(first_eleven: str) -> str:
    remainder = sum(int(d) * w for d, w in zip(first_eleven, MY_NUMBER_WEIGHTS_LEFT_TO_RIGHT, strict=True)) % 11
    check = 0 if remainder in (0, 1) else 11 - remainder
    return first_eleven + str(check)


def official_corporate_number(base_twelve: str) -> str:
    # weights from the left: positions 12..1 from the right → even positions from the right weigh 2
    weights = [2 if (12 - index) % 2 == 0 else 1 for index in range(12)]
    check = 9 - sum(int(d) * w for d, w in zip(base_twelve, weights, strict=True)) % 9
    return str(check) + base_twelve


def luhn_complete(partial: str) -> str:
    for check in "0123456789":
        candidate = partial + check
        digits = [int(d) for d in reversed(candidate)]
        total = sum(d if i % 2 == 0 else (d * 2 if d < 5 else d * 2 - 9) for i, d in enumerate(digits))
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


def values(detector: object, text: str) -> list[str]:
    return [finding.value for finding in detector.detect(text)]  # type: ignore[attr-defined]


@pytest.fixture()
def rng() -> random.Random:
    return random.Random(20240701)


def test_my_numbers_with_a_valid_check_digit_are_found_in_every_written_form(rng: random.Random) -> None:
    detector = MyNumberDetector()
    for _ in range(200):
        number = official_my_number("".join(rng.choice("0123456789") for _ in range(11)))
        spaced = f"{number[:4]} {number[4:8]} {number[8:]}"
        hyphenated = f"{number[:4]}-{number[4:8]}-{number[8:]}"
        for written in (number, spaced, hyphenated, full_width(hyphenated)):
            text = f"個人番号：{written}（本人確認済み）"
            assert values(detector, text) == [written]


def test_twelve_digit_numbers_failing_the_check_are_not_my_numbers(rng: random.Random) -> None:
    detector = MyNumberDetector()
    for _ in range(200):
        valid = official_my_number("".join(rng.choice("0123456789") for _ in range(11)))
        wrong = valid[:11] + str((int(valid[11]) + rng.randint(1, 9)) % 10)
        assert detector.detect(f"整理番号 {wrong} を付与") == []


def test_my_number_is_not_cut_out_of_longer_digit_runs() -> None:
    number = official_my_number("12345678901")
    detector = MyNumberDetector()
    assert detector.detect(f"9{number}") == []
    assert detector.detect(f"{number}5") == []
    assert detector.detect(f"{number[:4]} {number[4:8]} {number[8:]} 1234") == []


def test_corporate_numbers_are_validated_by_their_leading_check_digit(rng: random.Random) -> None:
    detector = CorporateNumberDetector()
    assert values(detector, "国税庁（法人番号7000012050002）") == ["7000012050002"]
    for _ in range(200):
        number = official_corporate_number("".join(rng.choice("0123456789") for _ in range(12)))
        if number.startswith("0"):
            continue
        assert values(detector, f"法人番号：{full_width(number)}") == [full_width(number)]
        assert values(detector, f"登録番号 T{number}") == [number]
        wrong = str((int(number[0]) % 9) + 1) + number[1:]
        assert detector.detect(f"法人番号：{wrong}") == []


def test_card_numbers_pass_luhn_with_spaces_or_hyphens_and_lengths_13_to_19(rng: random.Random) -> None:
    detector = CardNumberDetector()
    for length in (13, 14, 15, 16, 19):
        for _ in range(40):
            number = luhn_complete(rng.choice("3456") + "".join(rng.choice("0123456789") for _ in range(length - 2)))
            grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
            for written in (number, grouped, grouped.replace(" ", "-"), full_width(grouped.replace(" ", "-"))):
                assert values(detector, f"カード番号：{written} 有効期限 12/27") == [written]
            broken = number[:-1] + str((int(number[-1]) + 1) % 10)
            assert detector.detect(f"カード番号：{broken}") == []


def test_amounts_dates_and_article_numbers_are_not_numbers_of_any_kind() -> None:
    text = "令和6年4月1日、第十二条に基づき金額 1,234,567,890,123円 を 2024-04-01 に支出（第12条第3項）。"
    for detector in (MyNumberDetector(), CorporateNumberDetector(), CardNumberDetector()):
        assert detector.detect(text) == []


def test_numbers_read_as_amounts_or_unusual_groupings_are_rejected() -> None:
    my_number = official_my_number("31415926535")
    assert MyNumberDetector().detect(f"金額 {my_number}円") == []
    assert MyNumberDetector().detect(f"￥{my_number}") == []
    card = luhn_complete("411111111111111")
    assert CardNumberDetector().detect(f"番号 {card[:7]} {card[7:11]}-{card[11:13]}-{card[13:]}") == []
    assert CardNumberDetector().detect(f"番号 {card[:7]} {card[7:]}") == []
    amex = luhn_complete("37144963539843")
    assert [f.value for f in CardNumberDetector().detect(f"AMEX {amex[:4]} {amex[4:10]} {amex[10:]}")] == [
        f"{amex[:4]} {amex[4:10]} {amex[10:]}"
    ]
