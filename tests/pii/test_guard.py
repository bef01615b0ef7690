from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiraga import plugins
from hiraga.errors import ConfigurationError, HiragaError
from hiraga.pii.guard import PiiBlocked, PiiGuard, PiiPolicy, load_detectors, prepare_messages

BUILT_INS = {
    "address",
    "bank_account",
    "card_number",
    "corporate_number",
    "email",
    "my_number",
    "person_name",
    "phone_number",
    "postal_code",
}


@pytest.fixture()
def staff_number_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party distribution on sys.path that registers a detector through entry points."""
    (tmp_path / "staff_number_pii.py").write_text(
        textwrap.dedent(
            """
            import re
            from hiraga.pii.base import Finding

            class StaffNumberDetector:
                kind = "staff_number"
                label = "職員番号"

                def detect(self, text):
                    return [Finding(self.kind, m.start(), m.end(), m.group()) for m in re.finditer(r"S-\\d{6}", text)]
            """
        ),
        encoding="utf-8",
    )
    dist_info = tmp_path / "staff_number_pii-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: staff-number-pii\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[hiraga.pii_detectors]\nstaff_number = staff_number_pii:StaffNumberDetector\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.discover.cache_clear()
    yield
    plugins.discover.cache_clear()


def test_built_in_detectors_are_discovered_through_entry_points() -> None:
    assert set(plugins.discover("pii_detectors")) >= BUILT_INS
    assert {detector.kind for detector in load_detectors()} >= BUILT_INS


def test_a_detector_registered_by_another_distribution_is_found_and_used(staff_number_plugin: None) -> None:
    assert "staff_number" in plugins.discover("pii_detectors")
    prepared = PiiGuard.from_plugins().prepare(["職員番号 S-123456 の山田太郎様"], PiiPolicy.MASK)
    assert prepared.texts == ["職員番号 〔職員番号1〕 の〔氏名1〕様"]
    assert prepared.counts == {"staff_number": 1, "person_name": 1}


def test_unknown_detector_names_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        load_detectors(["no_such_detector"])


def test_block_policy_refuses_with_a_japanese_message_naming_the_kinds() -> None:
    guard = PiiGuard.from_plugins()
    with pytest.raises(PiiBlocked) as raised:
        guard.prepare(["本日の議事録です。", "連絡先 03-1234-5678、担当 鈴木一郎様"], PiiPolicy.BLOCK)
    error = raised.value
    assert isinstance(error, HiragaError)
    assert (error.status, error.code) == (403, "pii_blocked")
    assert "電話番号" in error.message and "氏名" in error.message
    assert "03-1234-5678" not in str(error.detail) and "鈴木" not in str(error.detail)
    assert error.detail == {"kinds": ["person_name", "phone_number"], "counts": {"person_name": 1, "phone_number": 1}}


def test_block_policy_lets_clean_text_through_and_allow_changes_nothing() -> None:
    guard = PiiGuard.from_plugins()
    assert guard.prepare(["本日の議事録です。"], PiiPolicy.BLOCK).texts == ["本日の議事録です。"]
    allowed = guard.prepare(["鈴木一郎様 03-1234-5678"], PiiPolicy.ALLOW)
    assert allowed.texts == ["鈴木一郎様 03-1234-5678"] and allowed.counts == {}


def test_chat_messages_are_masked_and_the_stream_restored() -> None:
    guard = PiiGuard.from_plugins()
    messages = [
        {"role": "system", "content": "丁寧に回答してください。"},
        {"role": "user", "content": [{"type": "text", "text": "鈴木一郎様への返信を"}, {"type": "image_url"}]},
        {"role": "assistant", "content": None},
        {"role": "user", "content": "電話 090-1234-5678 も鈴木一郎様のものです"},
    ]
    result = prepare_messages(guard, messages, PiiPolicy.MASK)
    assert result.messages[1]["content"] == [{"type": "text", "text": "〔氏名1〕様への返信を"}, {"type": "image_url"}]
    assert result.messages[3]["content"] == "電話 〔電話番号1〕 も〔氏名1〕様のものです"
    assert result.messages[2] == {"role": "assistant", "content": None}
    assert messages[3]["content"].startswith("電話 090")  # the caller's messages are not modified
    assert result.prepared.counts == {"person_name": 2, "phone_number": 1}
    restorer = result.prepared.restorer()
    chunks = ["〔氏", "名1〕様の番号は〔電話", "番号1〕です"]
    assert "".join(restorer.feed(c) for c in chunks) + restorer.flush() == "鈴木一郎様の番号は090-1234-5678です"


def test_tool_call_arguments_and_tool_results_are_masked_also_where_a_value_stands_alone() -> None:
    guard = PiiGuard.from_plugins()
    alone = guard.prepare(['{"name": "東雲かえで"}'], PiiPolicy.MASK).texts[0]
    assert "東雲" in alone  # standing alone the detectors miss it; found with its context it is masked:
    messages = [
        {"role": "user", "content": "申請者 東雲かえで様"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "t", "arguments": '{"name": "東雲かえで"}'}},
                {"id": "c2", "type": "function", "function": {"name": "u"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "東雲かえで: 登録あり"},
    ]
    result = prepare_messages(guard, messages, PiiPolicy.MASK)
    calls = result.messages[1]["tool_calls"]
    assert calls[0]["function"]["arguments"] == '{"name": "〔氏名1〕かえで"}'
    assert calls[1] == messages[1]["tool_calls"][1]  # no arguments: as it was
    assert result.messages[2]["content"] == "〔氏名1〕かえで: 登録あり"
    assert "東雲" in messages[1]["tool_calls"][0]["function"]["arguments"]  # the caller's copy is untouched
