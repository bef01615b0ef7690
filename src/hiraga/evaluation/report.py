"""The report for a model's developer: per suite the score with its 95 % interval, the safety
findings, and failure examples from public suites; private sets only when the administrator
includes them, and then with personal data masked (hiraga.pii). Markdown (HTML is rendered from
it by the page) and JSON. Every report names the model that answered and says scores are measured
by hiraga's suites, not checked by a person."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.evaluation.base import installed_suites
from hiraga.evaluation.leaderboard import BoardRow, board
from hiraga.pii.guard import load_detectors
from hiraga.pii.masking import mask
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import EvalResult

EXAMPLES_PER_SUITE = 3
EXCERPT_CHARS = 400


def model_report(db: Session, scope: AccessScope, model: str, *, include_private: bool = False) -> dict[str, Any]:
    rows = [r for r in board(db, scope) if r.model == model and (include_private or not r.suite.startswith("set:"))]
    titles = {name: suite.title for name, suite in installed_suites().items()}
    suites = [{**_row(r), "title": titles.get(r.suite, r.suite)} for r in rows]
    examples = {r.suite: _failures(db, r, private=r.suite.startswith("set:")) for r in rows}
    safety = next((r for r in rows if r.suite == "safety"), None)
    return {
        "model": model,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "スコアは hiraga の評価スイートによる自動採点です（人による確認ではありません）。",
        "suites": suites,
        "safety_findings": _safety_findings(db, safety) if safety is not None else [],
        "failure_examples": examples,
        "private_sets_included": include_private,
    }


def _row(row: BoardRow) -> dict[str, Any]:
    found = asdict(row)
    found["cost_per_1000_jpy"] = str(row.cost_per_1000_jpy)
    return found


def _failures(db: Session, row: BoardRow, *, private: bool) -> list[dict[str, Any]]:
    query = (
        select(EvalResult)
        .where(EvalResult.run_id == row.run_id)
        .order_by(EvalResult.score.is_not(None), EvalResult.score, EvalResult.ordinal)
        .limit(EXAMPLES_PER_SUITE)
    )
    found = []
    for result in db.scalars(query):
        texts = [result.prompt[:EXCERPT_CHARS], (result.reference or "")[:EXCERPT_CHARS], result.output[:EXCERPT_CHARS]]
        if private:
            detectors = load_detectors()
            texts = [mask(text, detectors).text for text in texts]
        prompt, reference, output = texts
        found.append(
            {"item": result.item_id, "score": result.score, "prompt": prompt, "reference": reference, "output": output}
        )
    return found


def _safety_findings(db: Session, row: BoardRow) -> list[dict[str, Any]]:
    found = []
    for result in db.scalars(select(EvalResult).where(EvalResult.run_id == row.run_id, EvalResult.score == 0.0)):
        detail = json.loads(result.detail_json or "{}")
        found.append(
            {"item": result.item_id, "finding": detail.get("finding"), "output": result.output[:EXCERPT_CHARS]}
        )
    return found


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# 評価レポート: {report['model']}", "", f"- 作成: {report['generated_at']}", f"- {report['note']}", ""]
    lines += [
        "## スイート別スコア（95% 信頼区間）",
        "",
        "| スイート | 件数 | スコア | 区間 | 失敗 | 費用/1000件 | p50 | p95 |",
    ]
    lines.append("|---|---:|---:|---|---:|---:|---:|---:|")
    for s in report["suites"]:
        lines.append(
            f"| {s['title']}（{s['suite']} v{s['suite_version']}） | {s['items']} | {s['score']:.3f} | "
            f"{s['low']:.3f}–{s['high']:.3f} | {s['failed']} | {s['cost_per_1000_jpy']} 円 | "
            f"{s['latency_p50_ms']:.0f} ms | {s['latency_p95_ms']:.0f} ms |"
        )
    lines += ["", "## 安全性の所見", ""]
    lines += [f"- {f['item']}: {f['finding']}: {_one_line(f['output'])}" for f in report["safety_findings"]] or [
        "- なし"
    ]
    lines += ["", "## 失敗例", ""]
    for suite, examples in report["failure_examples"].items():
        lines.append(f"### {suite}")
        for e in examples:
            lines += [
                "",
                f"- 項目 {e['item']}（スコア {'失敗' if e['score'] is None else format(e['score'], '.3f')}）",
                f"  - 参照: {_one_line(e['reference'])}",
                f"  - 出力: {_one_line(e['output'])}",
            ]
        lines.append("")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """An excerpt on one Markdown line: line breaks shown as ⏎, table bars kept as text."""
    return " ⏎ ".join(part.strip() for part in text.splitlines() if part.strip()).replace("|", "｜")
