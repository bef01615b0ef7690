from __future__ import annotations

import pytest

from hiraga.pii.base import PiiDetector
from hiraga.pii.guard import load_detectors
from hiraga.pii.masking import PlaceholderMap, mask, restore

LETTER = (
    "山田太郎様\n個人番号：1234 5678 9018\n電話：０９０－１２３４－５６７８\n"
    "メール：taro@example.lg.jp\n〒100-8926 東京都千代田区霞が関1-3-1\n"
    "お問い合わせは山田太郎様ご本人から 090-1234-5678 へお願いします。"
)


@pytest.fixture(scope="module")
def detectors() -> list[PiiDetector]:
    return load_detectors()


def test_masking_replaces_every_value_with_a_stable_placeholder(detectors: list[PiiDetector]) -> None:
    masked = mask(LETTER, detectors)
    for value in ("山田太郎", "9018", "５６７８", "5678", "taro@", "霞が関", "100-8926"):
        assert value not in masked.text
    assert masked.text.count("〔氏名1〕") == 2
    assert masked.text.count("〔電話番号1〕") == 2  # full-width and half-width forms are the same number
    assert "〔マイナンバー1〕" in masked.text
    assert masked.counts == {
        "person_name": 2,
        "my_number": 1,
        "phone_number": 2,
        "email": 1,
        "postal_code": 1,
        "address": 1,
    }


def test_round_trip_restores_the_original(detectors: list[PiiDetector]) -> None:
    masked = mask(LETTER, detectors)
    restored = restore(masked.text, masked.mapping)
    # Same value written twice in different widths comes back in the first-seen form.
    assert restored == LETTER.replace("090-1234-5678", "０９０－１２３４－５６７８")


def test_one_mapping_across_messages_keeps_placeholders_consistent(detectors: list[PiiDetector]) -> None:
    mapping = PlaceholderMap()
    first = mask("鈴木一郎様と佐藤花子様", detectors, mapping)
    second = mask("先ほどの佐藤花子様の件で、田中次郎様にも", detectors, mapping)
    assert first.text == "〔氏名1〕様と〔氏名2〕様"
    assert second.text == "先ほどの〔氏名2〕様の件で、〔氏名3〕様にも"


@pytest.mark.parametrize(
    "echoed",
    [
        "〔氏名1〕",
        "[氏名1]",
        "［氏名1］",
        "【氏名1】",
        "氏名1",
        "〔 氏名 1 〕",
        "氏名_1",
        "〔氏名１〕",
        "(氏名1)",
        "〔氏名1",
    ],
)
def test_mangled_placeholders_are_restored(echoed: str) -> None:
    mapping = PlaceholderMap()
    mapping.placeholder_for("person_name", "氏名", "山田太郎")
    assert restore(f"{echoed}様へ", mapping) == "山田太郎様へ"


def test_unknown_placeholders_stay_and_the_mapping_never_leaks() -> None:
    mapping = PlaceholderMap()
    mapping.placeholder_for("person_name", "氏名", "山田太郎")
    mapping.placeholder_for("phone_number", "電話番号", "090-1234-5678")
    answer = "〔氏名2〕と〔電話番号12〕と氏名10"
    assert restore(answer, mapping) == answer
    assert "山田" not in repr(mapping) and "090" not in repr(mapping)
    masked = mask("山田太郎様", load_detectors(["person_name"]), mapping)
    assert "山田" not in repr(masked)


def test_restore_is_identity_without_placeholders() -> None:
    assert restore("氏名1 はそのまま", PlaceholderMap()) == "氏名1 はそのまま"


def test_the_honorific_stays_outside_the_placeholder_and_restores(detectors: list[PiiDetector]) -> None:
    text = "氏名：土屋 浩二様\n申請者：宇野さん\n土屋 浩二様の申請について"
    masked = mask(text, detectors)
    assert masked.text == "氏名：〔氏名1〕様\n申請者：〔氏名2〕さん\n〔氏名1〕様の申請について"
    assert restore(masked.text, masked.mapping) == text
    answer = restore("〔氏名1〕様、〔氏名2〕さんの申請を受け付けました。", masked.mapping)
    assert answer == "土屋 浩二様、宇野さんの申請を受け付けました。"
