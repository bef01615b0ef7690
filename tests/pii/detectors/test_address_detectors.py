from __future__ import annotations

import pytest

from hiraga.pii.detectors.address import AddressDetector, PostalCodeDetector


@pytest.mark.parametrize(
    "address",
    [
        "東京都千代田区霞が関1-3-1",
        "神奈川県横浜市中区日本大通1番地",
        "大阪府大阪市北区中之島一丁目3番20号",
        "横浜市西区みなとみらい2-3-1 ランドマーク101号室",
        "西多摩郡奥多摩町氷川215番地",
        "北海道札幌市中央区北1条西2丁目",
        "福岡県北九州市小倉北区城内1番1号",
        "京都府京都市中京区寺町通御池上る上本能寺前町488番地",
        "千代田区永田町１－７－１",
    ],
)
def test_addresses_are_found_whole(address: str) -> None:
    text = f"住所：{address}\n"
    assert [f.value for f in AddressDetector().detect(text)] == [address]


@pytest.mark.parametrize(
    "text",
    [
        "市町村長は、第十二条第一項の規定により届出を受理する。",
        "都道府県知事は、前項の区域内において",
        "町内会の会合は3月1日に開催する。",
        "区分1-2の事業費",
    ],
)
def test_statute_like_text_has_no_address(text: str) -> None:
    assert AddressDetector().detect(text) == []


def test_postal_codes_with_mark_or_context_only() -> None:
    detector = PostalCodeDetector()
    assert [f.value for f in detector.detect("〒100-8926 東京都千代田区")] == ["100-8926"]
    assert [f.value for f in detector.detect("〒１００－８９２６")] == ["１００－８９２６"]
    assert [f.value for f in detector.detect("郵便番号 1000013")] == ["1000013"]
    assert [f.value for f in detector.detect("所在地 231-0021 横浜市")] == ["231-0021"]
    assert [f.value for f in detector.detect("231-0021 神奈川県横浜市")] == ["231-0021"]
    assert detector.detect("品番 231-0021 を発注") == []
    assert detector.detect("電話 045-231-0021") == []
