"""Why an answer was bad: the failure categories a user may pick with 👎 (chat and task apps), and
simple keyword rules that suggest one for a free comment given without a category. A suggested
category is marked as inferred wherever it is stored or counted, never passed off as the user's."""

from __future__ import annotations

from dataclasses import dataclass

from hiraga.errors import InvalidInput

CATEGORIES: dict[str, str] = {
    "factual": "事実の誤り",
    "numbers": "数値・日付の誤り",
    "instructions": "指示に従っていない",
    "japanese": "日本語・敬語",
    "format": "長さ・形式",
    "refusal": "不要な拒否",
    "other": "その他",
}

API_HELP = "👎 の理由の分類: " + ", ".join(CATEGORIES) + "（👍 では空）"

# Checked in this order; the first rule with a keyword in the comment wins ("other" is never inferred).
KEYWORD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("numbers", ("数字", "数値", "日付", "金額", "桁", "計算", "年号", "和暦", "西暦", "日時", "件数")),
    ("refusal", ("拒否", "断られ", "断った", "答えてくれない", "回答できません", "お答えできません")),
    ("instructions", ("指示", "従って", "無視", "頼んだ", "求めた", "依頼と違", "聞いたことと違")),
    ("format", ("長すぎ", "短すぎ", "冗長", "長い", "短い", "形式", "箇条書き", "文字数", "書式", "表に")),
    ("japanese", ("敬語", "日本語", "言い回し", "不自然", "誤字", "脱字", "文法", "漢字", "表現", "語尾")),
    ("factual", ("誤り", "間違", "事実", "嘘", "うそ", "存在しない", "根拠", "でたらめ", "不正確")),
)


@dataclass(frozen=True, slots=True)
class Category:
    """A 👎's category: ``code`` ("" for none) and whether the keyword rules inferred it."""

    code: str = ""
    inferred: bool = False

    @property
    def label(self) -> str:
        return CATEGORIES.get(self.code, "")


def check(rating: str, category: str) -> str:
    """The category a user sent with a rating: "" or one of ``CATEGORIES``, and only with 👎."""
    category = (category or "").strip()
    if not category:
        return ""
    if category not in CATEGORIES:
        choices = "・".join(f"{code}（{label}）" for code, label in CATEGORIES.items())
        raise InvalidInput(
            f"👎 の理由の分類が正しくありません。次のいずれかを指定してください: {choices}",
            code="invalid_feedback_category",
            detail={"field": "category"},
        )
    if rating != "bad":
        raise InvalidInput(
            "理由の分類は 👎（bad）のときだけ指定できます。",
            code="invalid_feedback_category",
            detail={"field": "category"},
        )
    return category


def infer(comment: str) -> str:
    """The first keyword rule that matches the comment, or "" (see ``KEYWORD_RULES``)."""
    for code, keywords in KEYWORD_RULES:
        if any(k in comment for k in keywords):
            return code
    return ""


def of_feedback(rating: str, chosen: str, comment: str) -> Category:
    """The category kept with a rating: the user's choice, else (for 👎 only) one inferred from the comment."""
    if rating != "bad":
        return Category()
    if chosen:
        return Category(chosen)
    inferred = infer(comment)
    return Category(inferred, inferred=bool(inferred))
