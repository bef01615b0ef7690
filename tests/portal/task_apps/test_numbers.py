"""Numbers and dates in a summary are checked against the source in code."""

from __future__ import annotations

from hiraga.portal.task_apps.numbers import facts_in, unsupported_facts

SOURCE = (
    "令和6年4月1日から、手数料を１，２００円に改定します。対象は約3,500件で、前年度比12.5%増です。2024年度予算は4億円。"
)


def test_facts_are_found_after_width_and_separator_normalisation() -> None:
    assert facts_in(SOURCE) == ["令和6年4月1日", "1200", "3500", "12.5%", "2024年度", "4億"]


def test_a_faithful_summary_has_no_unsupported_facts() -> None:
    assert unsupported_facts("令和6年4月1日から手数料は1,200円。対象3500件、12.5%増。4月1日施行。", SOURCE) == []


def test_changed_numbers_and_dates_are_flagged() -> None:
    summary = "令和6年4月2日から手数料は1,300円。対象350件、12%増。予算は40億円。"
    assert unsupported_facts(summary, SOURCE) == ["令和6年4月2日", "1300", "350", "12%", "40億"]
