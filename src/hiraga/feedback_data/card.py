"""The dataset card (README.md) of an export: Hugging Face's front matter (licence, language, one
config per non-empty file), then counts per task and model, the policy each team's items were given
under, and how the data was made (consent, scrubbing, review)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import hiraga

if TYPE_CHECKING:
    from hiraga.feedback_data.export import ExportFilter, ExportSummary

FILE_NAMES = {"sft": "sft.jsonl", "preference": "preference.jsonl", "kto": "kto.jsonl"}
FORMATS = {
    "sft": "OpenAI チャット形式の `messages`（system・user・assistant）。TRL SFTTrainer 向け。",
    "preference": "`prompt`・`chosen`・`rejected`（会話形式）。TRL DPOTrainer 向けの選好データ。",
    "kto": "`prompt`・`completion`・`label`（真偽）。TRL KTOTrainer 向けの対にならない良否データ。",
}


def _licence(summary: ExportSummary) -> str:
    licences = {str(team["licence"]) for team in summary.teams.values() if team["licence"]}
    return licences.pop() if len(licences) == 1 else ("other" if licences else "unknown")


def _table(title: str, counts: Mapping[str, int]) -> list[str]:
    lines = [f"| {title} | 件数 |", "|---|---:|"]
    lines += [f"| {name} | {count:,} |" for name, count in sorted(counts.items())]
    return lines if counts else [f"（{title}別の件数はありません）"]


def render_card(summary: ExportSummary, filters: ExportFilter, made_at: datetime) -> str:
    configs = [name for name in FILE_NAMES if summary.rows[name]]
    front = ["---", f"license: {_licence(summary)}", "language:", "- ja", "configs:"]
    for name in configs:
        front += [f"- config_name: {name}", "  data_files:", "  - split: train", f"    path: {FILE_NAMES[name]}"]
    if not configs:
        front[-1] = "configs: []"
    body = [
        "---",
        "",
        "# hiraga 利用者フィードバック データセット",
        "",
        f"作成日時: {made_at.isoformat()}（hiraga {hiraga.__version__}）。項目数: {summary.items:,}。",
        "",
        "## ファイル",
        "",
        *(f"- `{FILE_NAMES[n]}`（{summary.rows[n]:,} 行）: {FORMATS[n]}" for n in FILE_NAMES),
        "",
        "## 業務別・モデル別",
        "",
        *_table("業務", summary.by_task),
        "",
        *_table("回答したモデル", summary.by_model),
        "",
        "## 提供の方針",
        "",
        *_teams(summary),
        "",
        "## 作り方（来歴）",
        "",
        "- チームの管理者が学習への利用を有効にし、提供してよい機密性を決めたチームの評価だけを含みます。",
        "- 提供を止めた利用者の評価と、取り下げられた評価は含みません（止める前のものも含みません）。",
        "- すべてのテキストは hiraga の個人情報検出器で検査し、見つかった値は項目内で一貫した種類付きの"
        "置き換え（例: 〔氏名1〕）にしてあります。",
        "- 各項目はチーム管理者が確認して承認したものです（編集したものは再度検査しています）。",
        "- 回答はモデルの出力で、正しさは確認されていません。利用者の評価（👍/👎）と修正を付けています"
        "（回答したモデルは上の集計にあります）。",
        f"- 絞り込み: {_filters(filters)}",
        "",
    ]
    return "\n".join(front + body)


def _teams(summary: ExportSummary) -> list[str]:
    if not summary.teams:
        return ["（該当する項目はありません）"]
    lines = ["| チーム | 提供してよい機密性 | ライセンス |", "|---|---|---|"]
    for team in sorted(summary.teams.values(), key=lambda t: str(t["name"])):
        lines.append(f"| {team['name']} | 機密性{team['max_classification']}まで | {team['licence'] or '未設定'} |")
    return lines


def _filters(filters: ExportFilter) -> str:
    shown = {k: v for k, v in filters.as_json().items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "なし"
