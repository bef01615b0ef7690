"""文章生成: a draft for a purpose and an audience, at a length and in a tone."""

from __future__ import annotations

from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.errors import InvalidInput
from hiraga.portal.task_apps.base import result, select

AUDIENCES = [
    ("residents", "住民"),
    ("staff", "職員"),
    ("business", "事業者"),
    ("executives", "幹部・議会"),
    ("public", "一般"),
]
LENGTHS = [("short", "短め（200 字程度）"), ("medium", "標準（400 字程度）"), ("long", "長め（800 字程度）")]
TONES = [
    ("polite", "丁寧（です・ます）"),
    ("official", "公用文（である）"),
    ("friendly", "親しみやすい"),
    ("concise", "簡潔"),
]
CHARS = {"short": 200, "medium": 400, "long": 800}
FORM: dict[str, Any] = {
    "purpose": {
        "type": "textarea",
        "title": "目的・伝えたいこと",
        "desc": "例: 窓口の受付時間が変わることを知らせたい",
        "required": True,
        "max_length": 4000,
    },
    "audience": select("読み手", AUDIENCES, "residents"),
    "length": select("長さ", LENGTHS, "medium"),
    "tone": select("文体", TONES, "polite"),
    "points": {
        "type": "textarea",
        "title": "盛り込む事項（任意）",
        "desc": "日付・場所・連絡先など、必ず入れたい事実を 1 行に 1 つ",
        "max_length": 4000,
    },
}


def _label(options: list[tuple[str, str]], value: Any) -> str:
    return dict(options).get(str(value), options[0][1])


class GenerateApp:
    """文章生成"""

    uses_tools = True  # one model call whose text is the answer: may look facts up with the team's tools

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="文章生成",
            description="目的と読み手を指定して、お知らせ・案内・メールなどの下書きを作ります。",
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        purpose = str(inputs.get("purpose") or "").strip()
        if not purpose:
            raise InvalidInput(
                "目的・伝えたいことを入力してください。", code="empty_input", detail={"field": "purpose"}
            )
        chars = CHARS.get(str(inputs.get("length")), CHARS["medium"])
        points = str(inputs.get("points") or "").strip()
        prompt = (
            f"次の目的の文章を書いてください。\n目的: {purpose}\n"
            f"読み手: {_label(AUDIENCES, inputs.get('audience'))}\n"
            f"文体: {_label(TONES, inputs.get('tone'))}\n長さ: {chars} 字程度\n"
            + (f"必ず盛り込む事項（数字・日付は変えない）:\n{points}\n" if points else "")
            + "本文だけを出力してください。"
        )
        system = "あなたは行政機関の文書作成を手伝う担当者です。正確で分かりやすい日本語で書きます。"
        text = await context.chat(
            [{"role": "system", "content": system}, {"role": "user", "content": prompt}], max_tokens=chars * 2
        )
        return result(text.strip(), context)
