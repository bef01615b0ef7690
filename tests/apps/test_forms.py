"""Form definitions as Gennai apps write them: a file field named ``files`` (with ``multiple``) is
accepted and its uploads reach the app under that key; ``files`` for any other kind of field, and
``chat_history`` for any field, are refused in Japanese."""

from __future__ import annotations

import pytest

from hiraga.apps import forms
from hiraga.errors import InvalidInput

GENNAI_STYLE = {
    "input_text": {"type": "textarea", "title": "質問", "desc": "資料について質問してください", "required": True},
    "files": {"type": "file", "title": "資料", "accept": [".pdf", ".txt"], "multiple": True},
}


def test_a_file_field_named_files_is_accepted_and_carries_its_uploads() -> None:
    definition = forms.parse_definition(GENNAI_STYLE)
    field = definition["files"]
    assert isinstance(field, forms.FileField) and field.max_files == 10
    uploads = {"files": [forms.Upload("a.txt", b"abc"), forms.Upload("b.pdf", b"%PDF")]}
    checked = forms.check_inputs(definition, {"input_text": "要点は？"}, uploads)
    assert [g.key for g in checked.files] == ["files"] and len(checked.files[0].files) == 2
    decoded = forms.decode_files(definition, checked.files)
    assert [u.filename for u in decoded["files"]] == ["a.txt", "b.pdf"]


def test_an_explicit_max_files_wins_over_multiple() -> None:
    field = forms.parse_definition({"files": {"type": "file", "title": "資料", "multiple": True, "max_files": 3}})
    assert field["files"].max_files == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "definition",
    [{"files": {"type": "text", "title": "ファイル名"}}, {"chat_history": {"type": "textarea", "title": "履歴"}}],
)
def test_reserved_names_for_other_fields_are_refused(definition: dict) -> None:
    with pytest.raises(InvalidInput) as refused:
        forms.parse_definition(definition)
    assert refused.value.code == "invalid_form_definition" and "使え" in refused.value.message
