"""Usage and adoption dashboards and the printable monthly report (auditors, system admins, and
team admins for their teams). The numbers come from ``hiraga.dashboards``; this only renders."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.dashboards import adoption, overview, usage_stats
from hiraga.dashboards.period import month_period
from hiraga.web.deps import DbSession
from hiraga.web.pages.rendering import SECURITY_HEADERS, PageRoute, PageScope, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _csv_response(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/dashboards")
def dashboards(
    request: Request, db: DbSession, scope: PageScope, month: str | None = None, team_id: RowId | None = None
) -> Response:
    now = datetime.now(UTC)
    data = overview.build(db, scope, month_period(month, now), now, team_id)
    return render(request, "dashboards/index.html", {"data": data, "titles": overview.TITLES, "team_id": team_id})


@router.get("/dashboards/monthly")
def monthly_report(request: Request, db: DbSession, scope: PageScope, month: str | None = None) -> Response:
    now = datetime.now(UTC)
    data = overview.build(db, scope, month_period(month, now), now)
    return render(request, "dashboards/monthly.html", {"data": data, "titles": overview.TITLES, "generated": now})


@router.get("/dashboards/usage.csv")
def usage_csv(
    db: DbSession,
    scope: PageScope,
    dimension: usage_stats.Dimension = "team",
    month: str | None = None,
    team_id: RowId | None = None,
) -> Response:
    period = month_period(month)
    rows = usage_stats.usage_by(db, scope, period, dimension, team_id)
    return _csv_response(overview.usage_csv(rows, dimension), f"hiraga-usage-{dimension}-{period.month}.csv")


@router.get("/dashboards/adoption.csv")
def adoption_csv(db: DbSession, scope: PageScope, level: str = "team") -> Response:
    now = datetime.now(UTC)
    if level == "organisation":
        rows = adoption.organisation_adoption(db, scope, now)
    else:
        rows = adoption.team_adoption(db, scope, now)
    return _csv_response(overview.adoption_csv(rows, level), f"hiraga-adoption-{level}-{now:%Y%m%d}.csv")
