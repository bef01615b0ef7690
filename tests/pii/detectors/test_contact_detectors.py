from __future__ import annotations

import pytest

from hiraga.pii.detectors.contact import EmailDetector, PhoneNumberDetector


@pytest.mark.parametrize(
    "written",
    [
        "03-1234-5678",  # 固定 (東京)
        "045-123-4567",
        "0463-12-3456",
        "01267-2-3456",
        "(03)1234-5678",
        "03(1234)5678",
        "0312345678",
        "090-1234-5678",  # 携帯
        "080 1234 5678",
        "07012345678",
        "050-1234-5678",  # IP 電話
        "0120-123-456",  # フリーダイヤル
        "0120123456",
        "0800-123-4567",
        "0570-012-345",  # ナビダイヤル
        "+81-3-1234-5678",
        "+81 90-1234-5678",
        "０９０－１２３４－５６７８",  # 全角
        "（０３）１２３４－５６７８",
        "03ー1234ー5678",  # 長音符で区切った入力
    ],
)
def test_japanese_phone_numbers_are_found_with_their_exact_span(written: str) -> None:
    text = f"お問い合わせは{written}まで。"
    findings = PhoneNumberDetector().detect(text)
    assert [(f.start, f.end, f.value) for f in findings] == [(7, 7 + len(written), written)]


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15 に受付",  # date
        "090-1234-567 は桁が足りない",
        "090-1234-56789 は桁が多い",
        "03-1234-56789",
        "0120-123-4567 は桁が多い",
        "金額 1,234,567円",
        "整理番号 123456789012",
        "第12条第3項",
    ],
)
def test_phone_look_alikes_are_not_phone_numbers(text: str) -> None:
    assert PhoneNumberDetector().detect(text) == []


def test_email_addresses_including_full_width_ones() -> None:
    text = "連絡先：taro.yamada+soumu@city.example.lg.jp、ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ、@だけの記号、a@b"
    found = [finding.value for finding in EmailDetector().detect(text)]
    assert found == ["taro.yamada+soumu@city.example.lg.jp", "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ"]
