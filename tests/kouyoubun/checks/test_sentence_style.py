from tests.kouyoubun.helpers import covered, findings


def test_the_minority_style_is_reported_at_its_ending() -> None:
    text = "本日は晴れです。明日も晴れる見込みです。\n会議は中止である。"
    assert covered(text, "style") == [("style.mixed", "である", None)]


def test_one_style_throughout_passes() -> None:
    assert covered("本日は晴れです。会議を開きます。資料を御覧ください。", "style") == []
    assert covered("本日は晴れである。会議を開く。資料を配布する。", "style") == []


def test_headings_and_quotes_do_not_count() -> None:
    assert covered("第一　目的\n会議を開きます。「中止である。」と聞きました。", "style") == []


def test_a_tie_goes_to_the_first_style() -> None:
    [finding] = findings("会議を開きます。資料を配る。", "style")
    assert "ですます体" in finding.reason
