"""校正: typos, grammar and clarity. The model proposes edits as 誤/正/理由 blocks; code applies
the ones whose 誤 really stands in the text and shows each change with its reason. Beside them,
the rule-based 公用文チェック's findings: reproducible, each with the rule's source document."""

from __future__ import annotations

import difflib
import re
from typing import Any

import anyio

from hiraga.apps.forms import Upload
from hiraga.apps.provider_side import AppDefinition, AppResult, RunContext
from hiraga.kouyoubun.checker import check
from hiraga.portal.task_apps.base import Change, RuleNote, document_field, progress, result, select, source_text

FOCUS = [
    ("all", "すべて（誤字脱字・文法・分かりやすさ）"),
    ("typos", "誤字脱字"),
    ("grammar", "文法"),
    ("clarity", "分かりやすさ"),
]
FOCUS_TEXT = {
    "all": "誤字脱字、文法の誤り、分かりにくい表現",
    "typos": "誤字脱字と変換ミス",
    "grammar": "文法の誤り（助詞、係り受け、文末の不統一）",
    "clarity": "分かりにくい表現（長すぎる文、曖昧な指示語、二重否定）",
}
FORM: dict[str, Any] = {
    "input_text": {"type": "textarea", "title": "校正する文章", "max_length": 50_000},
    "documents": document_field(),
    "focus": select("観点", FOCUS, "all"),
}
BLOCK = re.compile(
    r"誤[:：]\s*(?P<before>.+?)\s*\n\s*正[:：]\s*(?P<after>.*?)\s*\n\s*理由[:：]\s*(?P<reason>.+?)\s*(?:\n|$)"
)
MAX_CHANGES = 50


def parse_changes(answer: str, text: str) -> list[Change]:
    """The proposals whose 誤 stands in ``text`` and differs from 正 (others are dropped)."""
    changes: list[Change] = []
    for match in BLOCK.finditer(answer.replace("\r\n", "\n")):
        before, after = match["before"].strip("「」 "), match["after"].strip("「」 ")
        if before and before != after and before in text and all(c.before != before for c in changes):
            changes.append(Change(before=before, after=after, reason=match["reason"].strip()))
    return changes[:MAX_CHANGES]


def apply_changes(text: str, changes: list[Change]) -> str:
    for change in changes:
        text = text.replace(change.before, change.after, 1)
    return text


def diff_runs(source: str, changes: list[Change]) -> list[tuple[str, str]]:
    """The source with the changes applied, as (same|del|ins, text) runs for <del>/<ins>."""
    corrected = apply_changes(source, changes)
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=source, b=corrected, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", source[a1:a2]))
            continue
        if a2 > a1:
            runs.append(("del", source[a1:a2]))
        if b2 > b1:
            runs.append(("ins", corrected[b1:b2]))
    return runs


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ") or "（削除）"


def _table(changes: list[Change]) -> str:
    rows = "\n".join(f"| {_cell(c.before)} | {_cell(c.after)} | {_cell(c.reason)} |" for c in changes)
    return "| 変更前 | 変更後 | 理由 |\n|---|---|---|\n" + rows


def rule_notes(text: str) -> list[RuleNote]:
    """The 公用文チェック's findings on ``text`` (rule-based, with their sources)."""
    return [
        RuleNote(text[f.start : f.end], f.suggestion, f.rule_name, f.reason, str(f.source))
        for f in check(text).findings
    ]


def _rules_section(notes: list[RuleNote]) -> str:
    if not notes:
        return "**公用文の規則による点検:** 指摘はありませんでした。"
    rows = "\n".join(f"| {_cell(n.excerpt)} | {_cell(n.suggestion or '—')} | {_cell(n.reason)} |" for n in notes)
    return f"**公用文の規則による指摘（{len(notes)} 件）:**\n\n| 箇所 | 修正案 | 理由 |\n|---|---|---|\n{rows}"


class ProofreadApp:
    """校正"""

    def definition(self) -> AppDefinition:
        return AppDefinition(
            title="校正",
            description="誤字脱字・文法・分かりやすさを点検し、変更箇所と理由を差分で示します。",
            form=FORM,
        )

    async def run(self, inputs: dict[str, Any], files: dict[str, list[Upload]], context: RunContext) -> AppResult:
        text = source_text(inputs, files, context, reserve=300)
        focus = FOCUS_TEXT.get(str(inputs.get("focus")), FOCUS_TEXT["all"])
        prompt = (
            f"次の文章の{focus}を直してください。直す箇所ごとに、次の 3 行の形式で書いてください。"
            "直す箇所がなければ「なし」とだけ書いてください。\n誤: 元の表現\n正: 直した表現\n理由: 直す理由\n\n"
            f"文章:\n{text}"
        )
        answer = await context.chat(
            [{"role": "system", "content": "あなたは行政文書の校正担当です。"}, {"role": "user", "content": prompt}],
            max_tokens=1024,
        )
        changes = parse_changes(answer, text)
        corrected = apply_changes(text, changes)
        await progress(context, "公用文の規則で点検しています")
        notes = await anyio.to_thread.run_sync(rule_notes, text)
        model_part = (
            f"{len(changes)} か所の修正を提案します。\n\n{_table(changes)}\n\n**修正後の文章:**\n\n{corrected}"
            if changes
            else "モデルは修正が必要な箇所を見つけませんでした。"
        )
        outputs = f"{model_part}\n\n{_rules_section(notes)}"
        return result(outputs, context, changes=changes, source_text=text, rule_notes=notes, text=model_part)
