"""要約 (summarise): the text typed in or a text file, summarised by the model behind ``default``."""

from __future__ import annotations

from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.errors import InvalidInput

MAX_SOURCE_CHARS = 6000
LENGTHS = {"short": "3 行程度", "normal": "5 行程度", "long": "10 行程度"}
FORM: dict[str, Any] = {
    "input_text": {
        "type": "textarea",
        "title": "要約する文章",
        "desc": "ファイルを添付する場合は空でかまいません。",
        "max_length": 50_000,
    },
    "document": {
        "type": "file",
        "title": "テキストファイル",
        "desc": ".txt または .md（UTF-8 / Shift_JIS）",
        "accept": [".txt", ".md"],
        "max_size_mb": 2,
        "max_files": 1,
    },
    "length": {
        "type": "select",
        "title": "長さ",
        "options": [
            {"value": "short", "label": "短く"},
            {"value": "normal", "label": "普通"},
            {"value": "long", "label": "詳しく"},
        ],
        "default": "normal",
    },
}


def _decode(upload: Upload) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return upload.data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        f"ファイル「{upload.filename}」の文字コードを読み取れません（UTF-8 か Shift_JIS にしてください）。"
    )


class SummariseApp:
    """要約"""

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="要約",
            description="文章やテキストファイルを、指定した長さの日本語に要約します。",
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        parts = [str(inputs.get("input_text") or "")] + [_decode(f) for f in files.get("document", [])]
        source = "\n\n".join(p.strip() for p in parts if p.strip())
        if not source:
            raise InvalidInput("要約する文章を入力するか、テキストファイルを添付してください。")
        length = LENGTHS.get(str(inputs.get("length") or "normal"), LENGTHS["normal"])
        summary = await context.chat(
            [
                {"role": "system", "content": "あなたは行政文書の要約担当です。日本語で、事実だけを簡潔にまとめます。"},
                {"role": "user", "content": f"次の文章を{length}で要約してください。\n\n{source[:MAX_SOURCE_CHARS]}"},
            ],
            max_tokens=256,
        )
        return AppResult(outputs=summary.strip(), usage=list(context.usage))
