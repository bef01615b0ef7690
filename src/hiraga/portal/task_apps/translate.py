"""翻訳: ja↔en and other pairs, for an audience and at a formality. The app checks in code that the
numbers, dates, amounts and Latin-script names of the source survive, and that none were invented."""

from __future__ import annotations

from typing import Any

from hiraga.apps.forms import Upload
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.errors import InvalidInput
from hiraga.portal.task_apps.base import checked_result, document_field, progress, select, source_text
from hiraga.portal.task_apps.numbers import dropped_facts, unsupported_facts
from hiraga.portal.task_apps.proper_names import dropped_names

LANGUAGES = [
    ("ja", "日本語"),
    ("en", "英語"),
    ("zh", "中国語（簡体字）"),
    ("ko", "韓国語"),
    ("vi", "ベトナム語"),
    ("pt", "ポルトガル語"),
    ("es", "スペイン語"),
]
AUDIENCES = [
    ("general", "一般の読み手"),
    ("residents", "外国籍の住民（やさしく）"),
    ("experts", "専門家"),
    ("officials", "海外の行政機関"),
]
FORMALITY = [("formal", "丁寧・フォーマル"), ("neutral", "標準"), ("casual", "くだけた")]
FORM: dict[str, Any] = {
    "input_text": {"type": "textarea", "title": "翻訳する文章", "max_length": 50_000},
    "documents": document_field(),
    "source_language": select("翻訳元の言語", [("auto", "自動判定"), *LANGUAGES], "auto"),
    "target_language": select("翻訳先の言語", LANGUAGES, "en"),
    "audience": select("読み手", AUDIENCES, "general"),
    "formality": select("丁寧さ", FORMALITY, "formal"),
}
ENGLISH_NAMES = dict(
    ja="Japanese", en="English", zh="Simplified Chinese", ko="Korean", vi="Vietnamese", pt="Portuguese", es="Spanish"
)


class TranslateApp:
    """翻訳"""

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="翻訳",
            description="日本語と英語などの間で、読み手と丁寧さに合わせて翻訳します。",
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        source_language = str(inputs.get("source_language") or "auto")
        target = str(inputs.get("target_language") or "en")
        if source_language == target:
            raise InvalidInput(
                "翻訳元と翻訳先に同じ言語が選ばれています。", code="same_language", detail={"field": "target_language"}
            )
        text = source_text(inputs, files, context, reserve=200)
        audience = dict(AUDIENCES).get(str(inputs.get("audience")), AUDIENCES[0][1])
        formality = dict(FORMALITY).get(str(inputs.get("formality")), FORMALITY[0][1])
        origin = "" if source_language == "auto" else f"from {ENGLISH_NAMES[source_language]} "
        prompt = (
            f"Translate the following text {origin}into {ENGLISH_NAMES.get(target, 'English')}. "
            f"Reader: {audience}. Formality: {formality}. Keep numbers, dates and proper nouns exact. "
            f"Output only the translation.\n\n{text}"
        )
        answer = await context.chat(
            [{"role": "system", "content": "You are a professional translator for a Japanese government office."},
             {"role": "user", "content": prompt}],
            max_tokens=2048,
        )  # fmt: skip
        translation = answer.strip()
        await progress(context, "数字・日付・名前を原文と照らし合わせています")
        return checked_result(translation, translation_checks(translation, text), context, source_text=text)


def translation_checks(translation: str, source: str) -> list[str]:
    """Numbers, dates and amounts the translation dropped or changed, and Latin-script names it lost."""
    checks = [
        f"原文の「{fact}」が訳文に見当たりません。訳し漏れや数字の誤りがないか確認してください。"
        for fact in dropped_facts(translation, source)
    ]
    checks += [f"訳文の「{fact}」は原文にありません。" for fact in unsupported_facts(translation, source)]
    checks += [f"原文の名前「{name}」が訳文に見当たりません。" for name in dropped_names(translation, source)]
    return checks
