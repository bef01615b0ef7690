"""Everything one dashboard page (or the monthly report) shows, gathered in one place."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hiraga.dashboards import adoption, budgets, svg, usage_stats
from hiraga.dashboards import decisions as decision_counts
from hiraga.dashboards.period import Period
from hiraga.dashboards.usage_stats import DIMENSIONS, Dimension, UsageRow
from hiraga.spine.authorize import AccessScope


@dataclass(frozen=True)
class Overview:
    period: Period
    usage: dict[str, list[UsageRow]]
    total: UsageRow
    top_apps: list[UsageRow]
    budgets: list[budgets.BudgetUse]
    teams: list[adoption.Adoption]
    organisations: list[adoption.Adoption]
    decisions: list[decision_counts.DecisionCount]
    refusals: list[decision_counts.RefusalReason]
    charts: dict[str, str]


def _charts(usage: dict[str, list[UsageRow]], teams: list[adoption.Adoption], top: list[UsageRow]) -> dict[str, str]:
    charts = {
        dim: svg.bar_chart(
            f"{TITLES[dim]}別の費用（円）",
            f"{TITLES[dim]}ごとの費用。上位 10 件。数値は下の表にもあります。",
            [(r.label, r.cost_jpy) for r in usage[dim][:10]],
            "円",
        )
        for dim in ("team", "user", "model", "app")
    }
    charts["day"] = svg.column_chart(
        "日別のリクエスト数",
        "日本時間の暦日ごとのリクエスト数。数値は下の表にもあります。",
        [(r.key, r.requests) for r in usage["day"]],
    )
    charts["adoption"] = svg.bar_chart(
        "チーム別の利用率（%）",
        "過去 30 日に利用したメンバーの割合。数値は下の表にもあります。",
        [(t.label, t.rate) for t in teams],
        "%",
    )
    charts["apps"] = svg.bar_chart(
        "よく使われたアプリ", "アプリごとのリクエスト数（上位 10 件）。", [(r.label, r.requests) for r in top], "件"
    )
    return charts


TITLES: dict[str, str] = {"team": "チーム", "user": "利用者", "model": "モデル", "app": "アプリ・経路", "day": "日"}


def build(session: Session, scope: AccessScope, period: Period, now: datetime, team_id: int | None = None) -> Overview:
    usage: dict[str, list[UsageRow]] = {
        dim: usage_stats.usage_by(session, scope, period, dim, team_id) for dim in DIMENSIONS
    }
    top = usage_stats.top_apps(usage["app"])
    teams = adoption.team_adoption(session, scope, now)
    return Overview(
        period=period,
        usage=usage,
        total=usage_stats.totals(usage["team"]),
        top_apps=top,
        budgets=budgets.budget_use(session, scope, now),
        teams=teams,
        organisations=adoption.organisation_adoption(session, scope, now),
        decisions=decision_counts.decisions(session, scope, period),
        refusals=decision_counts.refusal_reasons(session, scope, period),
        charts=_charts(usage, teams, top),
    )


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


def usage_csv(rows: Sequence[UsageRow], dimension: Dimension) -> str:
    return _csv(
        [dimension, "label", "requests", "input_tokens", "output_tokens", "cost_jpy"],
        [[r.key, r.label, r.requests, r.input_tokens, r.output_tokens, r.cost_jpy] for r in rows],
    )


def adoption_csv(rows: Sequence[adoption.Adoption], kind: str) -> str:
    return _csv(
        [kind, "label", "members", "active_30d", "adoption_percent"],
        [[r.key, r.label, r.members, r.active, r.rate] for r in rows],
    )
