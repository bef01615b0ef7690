"""Form definitions of apps (what the portal renders) and the inputs checked against them.

A definition maps input keys to fields: ``{"input_text": {"type": "textarea", "title": "本文",
"desc": "...", "required": true}}``. Types: textarea, text, select (``options``), checkbox, number
(``min``/``max``/``step``), file (``accept`` extensions, ``max_size_mb``, ``max_files``). Every
problem is reported in Japanese naming the field; nothing is guessed.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hiraga.apps.protocol import FileContent, FileGroup
from hiraga.errors import InvalidInput

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
RESERVED_KEYS = frozenset({"chat_history"})
FILES_KEY = "files"  # Gennai apps often name their one file field so; only a file field may be called that
MAX_FIELDS = 50
MAX_TEXT_LENGTH = 200_000
EXTENSION_PATTERN = re.compile(r"^\.[a-z0-9]{1,10}$")


class _Field(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str = Field(min_length=1, max_length=200)
    desc: str = Field(default="", max_length=2000)
    required: bool = False


class TextField(_Field):
    type: Literal["text", "textarea"]
    default: str = ""
    max_length: int = Field(default=MAX_TEXT_LENGTH, ge=1, le=MAX_TEXT_LENGTH)
    placeholder: str = ""
    # hiraga's portal offers a list to pick from (the knowledge bases the user may read); over the
    # protocol the field stays plain text
    suggest: Literal["knowledge_bases"] | None = None


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    value: str
    label: str


class SelectField(_Field):
    type: Literal["select"]
    options: list[Option] = Field(min_length=1, max_length=200)
    default: str | None = None


class CheckboxField(_Field):
    type: Literal["checkbox"]
    default: bool = False


class NumberField(_Field):
    type: Literal["number"]
    min: float | None = None
    max: float | None = None
    step: float | None = Field(default=None, gt=0)
    integer: bool = False
    default: float | None = None


class FileField(_Field):
    type: Literal["file"]
    accept: list[str] = Field(default_factory=list, max_length=50)
    max_size_mb: float = Field(default=10, gt=0, le=100)
    max_files: int = Field(default=1, ge=1, le=20)
    multiple: bool = False  # as HTML and Gennai forms write it: several files (max_files, if unset, is 10)


FormField = Annotated[TextField | SelectField | CheckboxField | NumberField | FileField, Field(discriminator="type")]
FIELD_ADAPTER: TypeAdapter[FormField] = TypeAdapter(FormField)
FIELD_TYPES = ("textarea", "text", "select", "checkbox", "number", "file")
FormDefinition = dict[str, FormField]


def _bad(message: str, key: str | None = None) -> InvalidInput:
    return InvalidInput(message, code="invalid_form_definition", detail={"field": "form_definition", "key": key})


def _options(raw: Any) -> Any:
    """``["a", "b"]`` is shorthand for ``[{"value": "a", "label": "a"}, ...]``."""
    if isinstance(raw, list):
        return [{"value": o, "label": o} if isinstance(o, str) else o for o in raw]
    return raw


def _field(key: str, raw: Any) -> FormField:
    if not isinstance(raw, dict):
        raise _bad(f"フォーム定義の項目「{key}」はオブジェクト（{{...}}）で書いてください。", key)
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        usable = "、".join(FIELD_TYPES)
        raise _bad(f"フォーム定義の項目「{key}」の種類「{kind}」は使えません（使えるもの: {usable}）。", key)
    data = {**raw, "options": _options(raw["options"])} if "options" in raw else raw
    if kind == "number":  # JSON numbers may be ints; the model wants floats
        numeric = ("min", "max", "step", "default")
        data = {k: float(v) if k in numeric and type(v) is int else v for k, v in data.items()}
    try:
        field = FIELD_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"][1:]) or "定義"
        raise _bad(f"フォーム定義の項目「{key}」の「{where}」が正しくありません。", key) from exc
    _check_semantics(key, field)
    return field


def _check_semantics(key: str, field: FormField) -> None:
    if isinstance(field, NumberField):
        if field.min is not None and field.max is not None and field.min > field.max:
            raise _bad(f"フォーム定義の項目「{key}」の最小値が最大値より大きくなっています。", key)
        if field.default is not None:
            _number_in_bounds(key, field, field.default, definition=True)
    elif isinstance(field, SelectField):
        values = [o.value for o in field.options]
        if len(set(values)) != len(values):
            raise _bad(f"フォーム定義の項目「{key}」の選択肢が重複しています。", key)
        if field.default is not None and field.default not in values:
            raise _bad(f"フォーム定義の項目「{key}」の既定値が選択肢にありません。", key)
    elif isinstance(field, FileField):
        if field.multiple and "max_files" not in field.model_fields_set:
            field.max_files = 10
        bad = [e for e in field.accept if not EXTENSION_PATTERN.match(e.lower())]
        if bad:
            raise _bad(f"フォーム定義の項目「{key}」の拡張子「{bad[0]}」は「.pdf」の形で書いてください。", key)
        field.accept = [e.lower() for e in field.accept]


def parse_definition(raw: str | Mapping[str, Any]) -> FormDefinition:
    """A definition from JSON text or a mapping; InvalidInput (Japanese) when it is not valid."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _bad(f"フォーム定義が JSON として読めません（{exc.lineno} 行目付近）。") from exc
    if not isinstance(raw, Mapping) or not raw:
        raise _bad("フォーム定義は項目を 1 つ以上含む JSON オブジェクトにしてください。")
    if len(raw) > MAX_FIELDS:
        raise _bad(f"フォーム定義の項目は {MAX_FIELDS} 個までです。")
    definition: FormDefinition = {}
    for key, spec in raw.items():
        if not KEY_PATTERN.match(str(key)) or key in RESERVED_KEYS:
            raise _bad(f"フォーム定義の項目名「{key}」は使えません（英数字と _、chat_history 以外）。", str(key))
        definition[key] = _field(key, spec)
        if key == FILES_KEY and not isinstance(definition[key], FileField):
            raise _bad("項目名「files」はファイル項目（type: file）にだけ使えます。", key)
    return definition


def definition_json(definition: FormDefinition) -> str:
    return json.dumps(
        {k: f.model_dump(exclude_defaults=False) for k, f in definition.items()}, ensure_ascii=False, sort_keys=False
    )


# -- inputs --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CheckedInputs:
    inputs: dict[str, Any]
    files: list[FileGroup]


def _refuse(key: str, title: str, problem: str) -> InvalidInput:
    return InvalidInput(f"「{title}」{problem}", code="invalid_app_input", detail={"field": key})


def _number_in_bounds(key: str, field: NumberField, value: float, definition: bool = False) -> None:
    too_small = field.min is not None and value < field.min
    too_big = field.max is not None and value > field.max
    if too_small or too_big:
        if definition:
            raise _bad(f"フォーム定義の項目「{key}」の既定値が範囲外です。", key)
        low = "" if field.min is None else f"{field.min:g}"
        high = "" if field.max is None else f"{field.max:g}"
        raise _refuse(key, field.title, f"は {low}〜{high} の範囲で入力してください。")


def _number(key: str, field: NumberField, raw: Any, from_text: bool) -> float | int | None:
    if raw is None or raw == "":
        return None
    if from_text and isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise _refuse(key, field.title, "には数値を入力してください。") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _refuse(key, field.title, "には数値を入力してください。")
    _number_in_bounds(key, field, float(raw))
    if field.integer:
        if float(raw) != int(raw):
            raise _refuse(key, field.title, "には整数を入力してください。")
        return int(raw)
    return raw


def _value(key: str, field: FormField, raw: Any, from_text: bool) -> Any:
    if isinstance(field, TextField):
        value = "" if raw is None else raw
        if not isinstance(value, str):
            raise _refuse(key, field.title, "には文字列を入力してください。")
        if len(value) > field.max_length:
            raise _refuse(key, field.title, f"は {field.max_length:,} 文字以内で入力してください。")
        return value or None
    if isinstance(field, CheckboxField):
        if from_text:
            return raw not in (None, "", "0", "false", "off")
        if raw is None:
            return False
        if not isinstance(raw, bool):
            raise _refuse(key, field.title, "は true か false で指定してください。")
        return raw
    if isinstance(field, SelectField):
        if raw in (None, ""):
            return None
        if raw not in [o.value for o in field.options]:
            raise _refuse(key, field.title, "の選択肢にない値です。")
        return raw
    assert isinstance(field, NumberField)
    return _number(key, field, raw, from_text)


def _file_group(key: str, field: FileField, uploads: Sequence[Upload]) -> FileGroup | None:
    uploads = [u for u in uploads if u.filename or u.data]
    if not uploads:
        return None
    if len(uploads) > field.max_files:
        raise _refuse(key, field.title, f"に添付できるファイルは {field.max_files} 個までです。")
    contents = []
    for upload in uploads:
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:255]
        extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        if field.accept and extension not in field.accept:
            raise _refuse(key, field.title, f"には {'、'.join(field.accept)} のファイルを添付してください（{name}）。")
        if len(upload.data) > field.max_size_mb * 1024 * 1024:
            raise _refuse(key, field.title, f"のファイルは {field.max_size_mb:g} MB 以下にしてください（{name}）。")
        contents.append(FileContent(filename=name, content=base64.b64encode(upload.data).decode("ascii")))
    return FileGroup(key=key, files=contents)


def check_inputs(
    definition: FormDefinition,
    values: Mapping[str, Any],
    uploads: Mapping[str, Sequence[Upload]] | None = None,
    *,
    from_text: bool = False,
) -> CheckedInputs:
    """Inputs as the app will receive them. ``from_text``: values come from an HTML form (strings)."""
    unknown = sorted(k for k in values if k not in definition)
    if unknown:
        raise InvalidInput(f"フォームにない項目「{unknown[0]}」が送られました。", code="invalid_app_input")
    inputs: dict[str, Any] = {}
    groups: list[FileGroup] = []
    for key, field in definition.items():
        if isinstance(field, FileField):
            group = _file_group(key, field, (uploads or {}).get(key, ()))
            if group is None and field.required:
                raise _refuse(key, field.title, "にファイルを添付してください。")
            if group is not None:
                groups.append(group)
            continue
        value = _value(key, field, values.get(key), from_text)
        if value is None and field.required:
            raise _refuse(key, field.title, "は必須です。")
        if value is None:
            value = getattr(field, "default", None)
        if value is not None:
            inputs[key] = value
    return CheckedInputs(inputs=inputs, files=groups)


def decode_files(definition: FormDefinition, groups: Sequence[FileGroup]) -> dict[str, list[Upload]]:
    """The protocol's base64 file structure back into uploads (hiraga serving its own apps)."""
    uploads: dict[str, list[Upload]] = {}
    for group in groups:
        if not isinstance(definition.get(group.key), FileField):
            raise InvalidInput(f"ファイル項目「{group.key}」はこのアプリにありません。", code="invalid_app_input")
        for item in group.files:
            try:
                data = base64.b64decode(item.content, validate=True)
            except ValueError as exc:
                raise InvalidInput(
                    f"ファイル「{item.filename}」の内容が base64 として読めません。", code="invalid_app_input"
                ) from exc
            uploads.setdefault(group.key, []).append(Upload(item.filename, data))
    return uploads
