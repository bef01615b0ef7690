"""要約: a summary at a chosen length, as bullets or prose. Numbers, amounts, dates and names must
stay exact; the app checks in code that each one in the summary stands in the source and flags
those that do not, each once."""

from __future__ import annotations

from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.portal.task_apps.base import checked_result, document_field, progress, select, source_text
from hiraga.portal.task_apps.numbers import unsupported_facts
from hiraga.portal.task_apps.proper_names import unsupported_names

LENGTHS = [
    ("short", "短く（3 点・100 字程度）"),
    ("medium", "標準（5 点・250 字程度）"),
    ("long", "詳しく（8 点・500 字程度）"),
]
STYLES = [("bullets", "箇条書き"), ("prose", "文章")]
SIZES = {"short": (3, 100), "medium": (5, 250), "long": (8, 500)}
FORM: dict[str, Any] = {
    "input_text": {
        "type": "textarea",
        "title": "要約する文章",
        "desc": "ファイルを添付する場合は空でもかまいません。",
        "max_length": 200_000,
    },
    "documents": document_field(),
    "length": select("長さ", LENGTHS, "medium"),
    "style": select("形式", STYLES, "bullets"),
}
SYSTEM = (
    "あなたは行政文書の要約担当です。原文にある事実だけを日本語で簡潔にまとめます。"
    "数字・金額・日付・期限は原文の表記のまま一字一句変えずに書き写します。推測や計算はしません。"
)


class SummariseApp:
    """要約（数値・日付の確認つき）"""

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="要約（数字・日付の確認つき）",
            description="文章やファイルを要約します。要約中の数字・日付が原文にあるかを自動で確かめます。",
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        points, chars = SIZES.get(str(inputs.get("length")), SIZES["medium"])
        source = source_text(inputs, files, context, reserve=200)
        shape = (
            f"{points} 点以内の箇条書き（「- 」で始める）"
            if inputs.get("style") != "prose"
            else f"{chars} 字程度の文章"
        )
        summary = (
            await context.chat(
                [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"次の文章を{shape}で要約してください。\n\n{source}"},
                ],
                max_tokens=chars * 2,
            )
        ).strip()
        await progress(context, "数字・日付・名前を原文と照らし合わせています")
        checks = [
            f"要約中の「{fact}」は原文に見つかりません。原文と照らし合わせて確認してください。"
            for fact in unsupported_facts(summary, source)
        ]
        checks += [f"要約中の名前「{name}」は原文にありません。" for name in unsupported_names(summary, source)]
        return checked_result(summary, checks, context, source_text=source)
