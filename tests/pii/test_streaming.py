from __future__ import annotations

import random

from hiraga.pii.masking import PlaceholderMap, restore
from hiraga.pii.streaming import StreamingRestorer


def mapping() -> PlaceholderMap:
    result = PlaceholderMap()
    result.placeholder_for("person_name", "氏名", "山田太郎")
    result.placeholder_for("person_name", "氏名", "佐藤花子")
    result.placeholder_for("phone_number", "電話番号", "03-1234-5678")
    return result


ANSWER = "〔氏名1〕様、お電話 【電話番号1】 ありがとうございました。［氏名 2］様にも〔氏名1〕様から連絡します。氏名"
EXPECTED = "山田太郎様、お電話 03-1234-5678 ありがとうございました。佐藤花子様にも山田太郎様から連絡します。氏名"


def stream(chunks: list[str]) -> tuple[str, list[str]]:
    restorer = StreamingRestorer(mapping())
    emitted = [restorer.feed(chunk) for chunk in chunks]
    emitted.append(restorer.flush())
    return "".join(emitted), emitted


def test_placeholders_split_at_every_position_are_restored() -> None:
    for cut in range(1, len(ANSWER)):
        text, _ = stream([ANSWER[:cut], ANSWER[cut:]])
        assert text == EXPECTED, cut


def test_random_chunkings_and_single_characters() -> None:
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(ANSWER)), rng.randint(1, 12)))
        chunks = [ANSWER[a:b] for a, b in zip([0, *cuts], [*cuts, len(ANSWER)], strict=True)]
        assert stream(chunks)[0] == EXPECTED
    assert stream(list(ANSWER))[0] == EXPECTED
    assert restore(ANSWER, mapping()) == EXPECTED


def test_only_a_possible_placeholder_tail_is_held_back() -> None:
    _, emitted = stream(["こんにちは、", "〔氏", "名1", "〕様。", "本日は"])
    assert emitted == ["こんにちは、", "", "", "山田太郎様。", "本日は", ""]


def test_without_mapping_everything_passes_through() -> None:
    restorer = StreamingRestorer(PlaceholderMap())
    assert restorer.feed("〔氏名1") == "〔氏名1"
    assert restorer.flush() == ""
