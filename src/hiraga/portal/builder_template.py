"""Prompt templates of builder apps: ``{{ラベル}}`` placeholders become a generated form.

Forms of a placeholder: ``{{ラベル}}`` (one line), ``{{ラベル:長文}}`` (long text), ``{{ラベル:選択=A|B|C}}``
(a choice), ``{{ラベル:ファイル}}`` (a file whose text is inserted). English type names work too
(text, textarea, select, file). A label used twice means the same field. Broken placeholders are
reported with their line and what is wrong, in Japanese.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hiraga.apps import forms
from hiraga.errors import InvalidInput

KINDS = {
    "": "text",
    "テキスト": "text",
    "text": "text",
    "長文": "textarea",
    "textarea": "textarea",
    "long": "textarea",
    "選択": "select",
    "select": "select",
    "ファイル": "file",
    "file": "file",
}
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
MAX_PLACEHOLDERS = 30
MAX_TEMPLATE_CHARS = 20_000
MAX_LABEL = 60


@dataclass(frozen=True, slots=True)
class Placeholder:
    key: str
    label: str
    kind: str  # text | textarea | select | file
    options: tuple[str, ...] = ()


def _broken(template: str, offset: int, problem: str) -> InvalidInput:
    line = template.count("\n", 0, offset) + 1
    return InvalidInput(
        f"テンプレートの {line} 行目: {problem}",
        code="invalid_template",
        detail={"field": "template", "line": line},
    )


def _placeholder(template: str, offset: int, raw: str) -> tuple[str, str, tuple[str, ...]]:
    label, _, spec = raw.partition(":") if ":" in raw else raw.partition("：")
    label = label.strip()
    if not label:
        raise _broken(template, offset, "「{{ }}」の中に項目名を書いてください。")
    if len(label) > MAX_LABEL or any(c in label for c in "{}\n"):
        raise _broken(
            template, offset, f"項目名「{label[:20]}」は {MAX_LABEL} 文字以内で、括弧や改行を含めないでください。"
        )
    kind_name, _, option_text = spec.partition("=")
    kind = KINDS.get(kind_name.strip().lower())
    if kind is None:
        usable = "テキスト・長文・選択・ファイル"
        raise _broken(
            template, offset, f"「{label}」の種類「{kind_name.strip()}」は使えません（使えるもの: {usable}）。"
        )
    options = tuple(o.strip() for o in option_text.split("|") if o.strip()) if kind == "select" else ()
    if kind == "select" and len(options) < 2:
        raise _broken(template, offset, f"選択項目「{label}」には「選択=A|B」の形で選択肢を 2 つ以上書いてください。")
    if len(set(options)) != len(options):
        raise _broken(template, offset, f"選択項目「{label}」の選択肢が重複しています。")
    if kind != "select" and option_text:
        raise _broken(template, offset, f"「{label}」に「=」で選択肢を書けるのは選択項目だけです。")
    return label, kind, options


def parse_template(template: str) -> list[Placeholder]:
    if not template.strip():
        raise InvalidInput(
            "プロンプトのテンプレートを入力してください。", code="invalid_template", detail={"field": "template"}
        )
    if len(template) > MAX_TEMPLATE_CHARS:
        raise InvalidInput(
            f"テンプレートは {MAX_TEMPLATE_CHARS:,} 文字以内にしてください。",
            code="invalid_template",
            detail={"field": "template"},
        )
    found: dict[str, Placeholder] = {}
    for match in PLACEHOLDER.finditer(template):
        if "{{" in match.group(1):
            raise _broken(template, match.start(), "「{{」が閉じられないまま次の「{{」が始まっています。")
        label, kind, options = _placeholder(template, match.start(), match.group(1))
        existing = found.get(label)
        if existing is not None and (existing.kind, existing.options) != (kind, options):
            raise _broken(template, match.start(), f"項目「{label}」が別の種類で二度使われています。")
        found.setdefault(label, Placeholder(key=f"field_{len(found) + 1}", label=label, kind=kind, options=options))
    rest = PLACEHOLDER.sub("", template)
    for token, problem in (
        ("{{", "「{{」が「}}」で閉じられていません。"),
        ("}}", "「}}」に対応する「{{」がありません。"),
    ):
        if token in rest:
            raise _broken(template, _offset_of_stray(template, token), problem)
    if not found:
        raise _broken(template, 0, "入力欄になるプレースホルダー（例: {{件名}}）が 1 つもありません。")
    if len(found) > MAX_PLACEHOLDERS:
        raise _broken(template, 0, f"プレースホルダーは {MAX_PLACEHOLDERS} 種類までです。")
    return list(found.values())


def _offset_of_stray(template: str, token: str) -> int:
    spans = [m.span() for m in PLACEHOLDER.finditer(template)]
    index = template.find(token)
    while index >= 0:
        if not any(start <= index < end for start, end in spans):
            return index
        index = template.find(token, index + 1)
    return 0


def form_of(placeholders: list[Placeholder]) -> forms.FormDefinition:
    """The generated form, checked by the same rules as every app's form."""
    raw: dict[str, Any] = {}
    for p in placeholders:
        field: dict[str, Any] = {"type": p.kind, "title": p.label, "required": p.kind != "file"}
        if p.kind == "select":
            field["options"] = list(p.options)
        if p.kind == "file":
            field |= {"accept": [".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv"], "max_files": 1}
        raw[p.key] = field
    return forms.parse_definition(raw)


def fill(template: str, placeholders: list[Placeholder], values: Mapping[str, str]) -> str:
    """The prompt: every placeholder replaced by its field's value."""
    by_label = {p.label: values.get(p.key, "") for p in placeholders}

    def replace(match: re.Match[str]) -> str:
        raw = match.group(1)
        label = (raw.partition(":") if ":" in raw else raw.partition("："))[0].strip()
        return str(by_label.get(label, ""))

    return PLACEHOLDER.sub(replace, template)
