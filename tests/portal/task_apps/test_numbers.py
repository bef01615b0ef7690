"""Numbers, amounts, dates and names of a summary or translation are checked against the source in
code, by value: one warning for each fact that does not stand there, none for one that does."""

from __future__ import annotations

import pytest

from hiraga.portal.task_apps.numbers import dropped_facts, facts_in, unsupported_facts
from hiraga.portal.task_apps.proper_names import dropped_names, unsupported_names
from hiraga.portal.task_apps.translate import translation_checks

SOURCE = (
    "令和6年4月1日から、手数料を１，２００円に改定します。対象は約3,500件で、前年度比12.5%増です。"
    "2024年度予算は4億円。来場者は1万8千人でした。"
)


def test_facts_are_read_as_values_after_width_and_separator_normalisation() -> None:
    facts = facts_in(SOURCE)
    assert [f.text for f in facts] == ["令和6年4月1日", "1200", "3500", "12.5%", "2024年度", "4億", "1万8千"]
    assert (facts[0].year, facts[0].month, facts[0].day) == (2024, 4, 1)
    assert facts[-1].value == 18_000 and facts[-2].value == 400_000_000


def test_a_faithful_summary_has_no_unsupported_facts() -> None:
    summary = "令和6年4月1日から手数料は1,200円。対象3500件、12.5%増。4月1日施行。来場者は1万8千人、18,000人規模。"
    assert unsupported_facts(summary, SOURCE) == []


def test_a_compound_number_is_one_value_not_a_flagged_prefix() -> None:
    """「1万8千人」 once read as 「1万」 and 「8千」: 「1万」 was flagged against its own source."""
    assert unsupported_facts("来場者は1万8千人。", "来場者は1万8千人でした。") == []
    assert unsupported_facts("来場者は1万人。", "来場者は1万8千人でした。") == ["1万"]


def test_changed_numbers_and_dates_are_flagged_once_each() -> None:
    summary = "令和6年4月2日から手数料は1,300円。対象350件、12%増。予算は40億円。手数料1,300円。"
    assert unsupported_facts(summary, SOURCE) == ["令和6年4月2日", "1300", "350", "12%", "40億"]


@pytest.mark.parametrize(
    ("translation", "dropped"),
    [
        ("From April 2027 the fee will be 1,200 yen for 18 thousand visitors.", []),
        ("From 2027/4 the fee will be 1200 yen for 18,000 visitors.", ["2027年4月"]),
        ("The fee will be 1,200 yen for 18,000 visitors.", ["2027年4月"]),
        ("From April 2027 the fee will be 1,300 yen for 18,000 visitors.", ["1200"]),
    ],
)
def test_a_translation_keeps_every_date_and_amount(translation: str, dropped: list[str]) -> None:
    source = "2027年4月から手数料は1,200円になります。来場者は1万8千人です。"
    assert dropped_facts(translation, source) == dropped


def test_translation_checks_name_dropped_invented_and_lost_names_once() -> None:
    source = "令和9年4月1日から、JR の駅で 500 円の手数料を導入します。"
    good = "From April 1, 2027, a 500-yen fee will be introduced at JR stations."
    assert translation_checks(good, source) == []
    bad = "From April 2, 2027, a 5,000-yen fee will be introduced at the stations. The fee is 5,000 yen."
    checks = translation_checks(bad, source)
    assert sum("令和9年4月1日" in c for c in checks) == 1 and sum("500" in c and "原文" in c for c in checks) >= 1
    assert sum("5000" in c for c in checks) == 1 and any("JR" in c for c in checks)


def test_names_of_a_summary_must_stand_in_the_source() -> None:
    source = "さくら市の山田市長は、大阪府と防災協定を結んだ。"
    assert unsupported_names("山田市長が大阪府と協定を結んだ。", source) == []
    assert unsupported_names("横浜市の山田市長が協定を結んだ。", source) == ["横浜市"]
    assert dropped_names("Sakura City signed a pact.", "さくら市は Microsoft と協定を結んだ。") == ["Microsoft"]
    assert dropped_names("さくら市", "Sakura City and Microsoft") == []  # names of a non-Japanese source
