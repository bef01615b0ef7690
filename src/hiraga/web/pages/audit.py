"""The audit log page (filters, pages of records, export links) and the chain verification page.
Read-only: hiraga offers no way to change or delete a record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from hiraga.audit import query, service
from hiraga.audit.keys import keys_for
from hiraga.bounds import RowId
from hiraga.errors import InvalidInput
from hiraga.usage.windows import JST
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PageRoute, PageScope, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
FILTER_FIELDS = ("since", "until", "user_id", "team_id", "model", "app", "classification", "outcome", "action")


def _day(value: str, field: str) -> datetime | None:
    """A date from the form (``YYYY-MM-DD``, Japan time) as the start of that day."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=JST)
    except ValueError as error:
        raise InvalidInput("日付は YYYY-MM-DD の形で指定してください。", detail={"field": field}) from error


def _number(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.strip().isdigit():
        raise InvalidInput("数値で指定してください。", detail={"field": field})
    return int(value)


def _filter(form: dict[str, str]) -> query.AuditFilter:
    until = _day(form["until"], "until")
    return query.AuditFilter(
        since=_day(form["since"], "since"),
        until=until.replace(hour=23, minute=59, second=59) if until else None,
        user_id=_number(form["user_id"], "user_id"),
        team_id=_number(form["team_id"], "team_id"),
        model=form["model"] or None,
        app=form["app"] or None,
        classification=_number(form["classification"], "classification"),
        outcome=form["outcome"] or None,
        action=form["action"] or None,
    )


@router.get("/audit")
def audit_log(request: Request, db: DbSession, scope: PageScope, before_id: RowId | None = None) -> Response:
    form = {f: request.query_params.get(f, "").strip() for f in FILTER_FIELDS}
    context: dict[str, Any] = {"form": form, "records": [], "error": None, "next_before": None}
    query.visible(scope)  # refuse callers who may read nothing before looking at the form
    try:
        wanted = _filter(form)
        records = query.list_records(db, scope, wanted, PAGE_SIZE + 1, before_id)
    except InvalidInput as error:
        context["error"] = error
        return render(request, "audit/index.html", context, status=400)
    api_filter = {k: v for k, v in _api_filter(wanted).items() if v}
    context |= {
        "records": records[:PAGE_SIZE],
        "next_before": records[PAGE_SIZE - 1]["id"] if len(records) > PAGE_SIZE else None,
        "query": urlencode({k: v for k, v in form.items() if v}),
        "export_csv": "/api/v1/audit/export?" + urlencode({**api_filter, "format": "csv"}),
        "export_jsonl": "/api/v1/audit/export?" + urlencode({**api_filter, "format": "jsonl"}),
    }
    return render(request, "audit/index.html", context)


def _api_filter(wanted: query.AuditFilter) -> dict[str, str]:
    values = {f: getattr(wanted, f) for f in FILTER_FIELDS}
    return {k: v.isoformat() if isinstance(v, datetime) else ("" if v is None else str(v)) for k, v in values.items()}


@router.get("/audit/verify")
def verify_page(request: Request, scope: PageScope) -> Response:
    ctx = app_context(request)
    result = service.verify(ctx.database.engine, scope, keys_for(ctx.settings), ctx.settings.audit_anchor_file)
    return render(request, "audit/verify.html", {"result": result, "checked_at": datetime.now(UTC)})
