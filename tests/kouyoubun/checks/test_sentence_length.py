from tests.kouyoubun.helpers import covered


def test_long_and_soft_thresholds_are_configurable() -> None:
    short, middle, long = "あ" * 59 + "。", "い" * 89 + "。", "う" * 129 + "。"
    text = short + middle + long
    assert covered(text, "length") == [("length.soft", middle, None), ("length.long", long, None)]
    assert covered(text, "length", long_sentence_chars=50, soft_sentence_chars=40) == [
        ("length.long", short, None),
        ("length.long", middle, None),
        ("length.long", long, None),
    ]
