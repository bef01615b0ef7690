"""Builder templates: placeholders become a form; broken ones get a clear Japanese error with the line."""

from __future__ import annotations

import pytest

from hiraga.apps.forms import FileField, SelectField, TextField
from hiraga.errors import InvalidInput
from hiraga.portal.builder_template import fill, form_of, parse_template

TEMPLATE = (
    "{{件名}}について{{読み手:選択=住民|職員}}向けに書く。\n"
    "補足: {{補足:長文}}\n資料: {{資料:ファイル}}\n再掲: {{件名}}"
)


def test_placeholders_become_the_form() -> None:
    placeholders = parse_template(TEMPLATE)
    assert [(p.label, p.kind) for p in placeholders] == [
        ("件名", "text"),
        ("読み手", "select"),
        ("補足", "textarea"),
        ("資料", "file"),
    ]
    form = form_of(placeholders)
    assert isinstance(form["field_1"], TextField) and form["field_1"].type == "text" and form["field_1"].required
    assert isinstance(form["field_2"], SelectField) and [o.value for o in form["field_2"].options] == ["住民", "職員"]
    assert isinstance(form["field_3"], TextField) and form["field_3"].type == "textarea"
    assert isinstance(form["field_4"], FileField) and not form["field_4"].required


def test_fill_replaces_every_occurrence() -> None:
    placeholders = parse_template(TEMPLATE)
    text = fill(TEMPLATE, placeholders, {"field_1": "窓口", "field_2": "住民", "field_3": "なし", "field_4": "本文"})
    assert text == "窓口について住民向けに書く。\n補足: なし\n資料: 本文\n再掲: 窓口"


@pytest.mark.parametrize(
    ("template", "line", "words"),
    [
        ("一行目\n{{件名", 2, "閉じられていません"),
        ("件名}}", 1, "対応する"),
        ("{{}}", 1, "項目名"),
        ("{{件名:色}}", 1, "種類「色」"),
        ("\n\n{{読み手:選択=住民}}", 3, "2 つ以上"),
        ("{{読み手:選択=住民|住民}}", 1, "重複"),
        ("{{件名}} {{件名:長文}}", 1, "別の種類"),
        ("{{件名:テキスト=A|B}}", 1, "選択項目だけ"),
        ("プレースホルダーなし", 1, "1 つもありません"),
        ("{{a {{b}}", 1, "次の「{{」"),
    ],
)
def test_broken_placeholders_are_refused_with_line_and_reason(template: str, line: int, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_template(template)
    assert caught.value.code == "invalid_template"
    assert caught.value.message.startswith(f"テンプレートの {line} 行目") and words in caught.value.message


def test_empty_template_is_refused() -> None:
    with pytest.raises(InvalidInput, match="テンプレートを入力"):
        parse_template("   ")
