"""校正: the model's 誤/正/理由 blocks become changes only where 誤 really stands in the text."""

from __future__ import annotations

from hiraga.portal.task_apps.base import Change
from hiraga.portal.task_apps.proofread import apply_changes, diff_runs, parse_changes

TEXT = "会議は午後３時から始めまする。資料は事前に配付いたします。"


def test_proposals_are_parsed_and_applied() -> None:
    answer = "誤: 始めまする\n正: 始めます\n理由: 文末の誤り\n\n誤：配付いたします\n正：配布します\n理由：表記の統一"
    changes = parse_changes(answer, TEXT)
    assert changes == [
        Change("始めまする", "始めます", "文末の誤り"),
        Change("配付いたします", "配布します", "表記の統一"),
    ]
    assert apply_changes(TEXT, changes) == "会議は午後３時から始めます。資料は事前に配布します。"


def test_proposals_for_text_that_is_not_there_are_dropped() -> None:
    answer = "誤: 存在しない表現\n正: 何か\n理由: 幻覚\n誤: 始めまする\n正: 始めまする\n理由: 同じ"
    assert parse_changes(answer, TEXT) == []
    assert parse_changes("なし", TEXT) == []


def test_the_diff_marks_deletions_and_insertions() -> None:
    runs = diff_runs("始めまする。", [Change("始めまする", "始めます", "文末")])
    assert runs == [("same", "始めます"), ("del", "る"), ("same", "。")]
