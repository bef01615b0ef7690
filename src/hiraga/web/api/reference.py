"""docs/api-reference.md, generated from the app's OpenAPI document: every operation of /api/v1
with its request body (each field: type, required, description). ``python -m
hiraga.web.api.reference`` rewrites the file; a test keeps it in step with the code."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

HEADER = (
    "# API リファレンス（生成）\n\n"
    "`python -m hiraga.web.api.reference > docs/api-reference.md` で `/api/openapi.json` から生成します。"
    "手で編集しないでください。認証・エラーの形は [api.md](api.md) を見てください。"
    "OpenAI 互換の `/v1`（`/v1/chat/completions`・`/v1/embeddings`・`/v1/rerank`・`/v1/models`）の本文は "
    "OpenAI API と同じ形です（`src/hiraga/gateway/protocol.py`）。\n"
)
METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(components[ref.rsplit("/", 1)[1]], components)
    for key in ("anyOf", "allOf"):
        options = [o for o in schema.get(key) or [] if o.get("type") != "null"]
        if len(options) == 1:
            return {**_resolve(options[0], components), **{k: v for k, v in schema.items() if k != key}}
    return schema


def _type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type(o, components) for o in schema[key])
    if schema.get("type") == "array":
        return f"array[{_type(schema.get('items') or {}, components)}]"
    if "enum" in schema:
        return " | ".join(f"`{v}`" for v in schema["enum"])
    return str(schema.get("type") or schema.get("format") or "any")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _body(operation: dict[str, Any], components: dict[str, Any]) -> list[str]:
    content = (operation.get("requestBody") or {}).get("content") or {}
    if not content:
        return ["本文なし。", ""]
    media, spec = next(iter(content.items()))
    schema = _resolve(spec.get("schema") or {}, components)
    properties = schema.get("properties") or {}
    if not properties:
        return [f"本文: `{media}`（{_cell(_type(spec.get('schema') or {}, components))}）", ""]
    required = set(schema.get("required") or [])
    lines = [f"本文: `{media}`", "", "| 項目 | 型 | 必須 | 説明 |", "|---|---|---|---|"]
    for name, prop in properties.items():
        described = _resolve(prop, components).get("description") or prop.get("title") or ""
        mark = "○" if name in required else ""
        lines.append(f"| `{name}` | {_cell(_type(prop, components))} | {mark} | {_cell(described)} |")
    return [*lines, ""]


def render(openapi: dict[str, Any]) -> str:
    components = (openapi.get("components") or {}).get("schemas") or {}
    out = [HEADER]
    for path, item in sorted(openapi.get("paths", {}).items()):
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            out.append(f"## {method.upper()} `{path}`\n")
            if operation.get("summary"):
                out.append(_cell(operation["summary"]) + "\n")
            out.extend(_body(operation, components))
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    from hiraga.app import create_app
    from hiraga.settings import load_settings

    with tempfile.TemporaryDirectory() as data:
        app = create_app(load_settings(data_dir=Path(data), secret_key="reference-" + "x" * 40))
        sys.stdout.write(render(app.openapi()))


if __name__ == "__main__":
    main()
