"""議事録から ToDo: the example app of docs/apps.md. It shows each part an office's own app needs:

- a form (``definition``): a text area, a file field (named ``files``, as Gennai apps write it), a select;
- files: the uploads arrive decoded, per field, as ``Upload(filename, data)``;
- calling the model: ``context.chat`` goes through hiraga's gateway with the user's model, 機密性,
  budget and audit, and adds its usage to ``context.usage``;
- checking the model in code: only lines of the asked-for shape become rows;
- returning artifacts: files (base64) the portal shows as download links.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.protocol import Artifact
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.errors import InvalidInput

FORM: dict[str, Any] = {
    "input_text": {
        "type": "textarea",
        "title": "議事録",
        "desc": "会議の記録を貼り付けてください。",
        "max_length": 30_000,
    },
    "files": {"type": "file", "title": "議事録ファイル（任意）", "accept": [".txt", ".md"], "max_size_mb": 1},
    "output": {
        "type": "select",
        "title": "ファイルの形式",
        "options": [{"value": "csv", "label": "CSV（Excel で開けます）"}, {"value": "md", "label": "Markdown"}],
        "default": "csv",
    },
}
ITEM = re.compile(r"^\s*[-・*]\s*\[(?P<owner>[^\]]{1,40})\]\s*(?P<task>.+?)(?:（(?P<due>[^）]{1,30})）)?\s*$")
PROMPT = (
    "次の議事録から、決まった作業（ToDo）をすべて抜き出してください。1 行に 1 件、"
    "「- [担当] 作業の内容（期限）」の形で書き、期限がなければ括弧ごと省いてください。"
    "議事録にないことは書かないでください。\n\n議事録:\n"
)


def _text(inputs: dict[str, Any], files: dict[str, list[Upload]]) -> str:
    parts = [str(inputs.get("input_text") or "").strip()]
    for upload in files.get("files", []):
        try:
            parts.append(upload.data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InvalidInput(f"{upload.filename} は UTF-8 のテキストとして読めません。") from None
    text = "\n\n".join(p for p in parts if p)
    if not text:
        raise InvalidInput("議事録を入力するか、ファイルを添付してください。", detail={"field": "input_text"})
    return text


def action_items(answer: str) -> list[tuple[str, str, str]]:
    """(担当, 内容, 期限) for each line of the asked-for shape; anything else is dropped."""
    rows = []
    for line in answer.splitlines():
        match = ITEM.match(line)
        if match:
            rows.append((match["owner"].strip(), match["task"].strip(), (match["due"] or "").strip()))
    return rows


def _artifact(rows: list[tuple[str, str, str]], kind: str) -> Artifact:
    if kind == "md":
        body = "| 担当 | 内容 | 期限 |\n|---|---|---|\n" + "\n".join(f"| {o} | {t} | {d} |" for o, t, d in rows)
        data, name = body.encode("utf-8"), "todo.md"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["担当", "内容", "期限"])
        writer.writerows(rows)
        data, name = buffer.getvalue().encode("utf-8-sig"), "todo.csv"  # BOM: Excel reads it as UTF-8
    return Artifact(display_name=name, content=base64.b64encode(data).decode("ascii"))


class MinutesTodoApp:
    """議事録から ToDo"""

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="議事録から ToDo",
            description="議事録から決まった作業を担当・期限つきで抜き出し、CSV で返します（アプリ作成の例）。",
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        text = _text(inputs, files)
        answer = await context.chat(
            [
                {"role": "system", "content": "あなたは行政機関の会議の記録係です。"},
                {"role": "user", "content": PROMPT + text},
            ],
            max_tokens=1024,
        )
        rows = action_items(answer)
        if not rows:
            outputs = "ToDo は見つかりませんでした（モデルの答えに決まった形の行がありませんでした）。"
            return AppResult(outputs=outputs, usage=list(context.usage))
        table = "\n".join(f"| {o} | {t} | {d or '—'} |" for o, t, d in rows)
        outputs = f"{len(rows)} 件の ToDo を抜き出しました。\n\n| 担当 | 内容 | 期限 |\n|---|---|---|\n{table}"
        kind = "md" if inputs.get("output") == "md" else "csv"
        return AppResult(outputs=outputs, usage=list(context.usage), artifacts=[_artifact(rows, kind)])
