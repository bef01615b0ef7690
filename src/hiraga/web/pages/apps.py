"""AI app pages: the list, registration (team and system administrators), and each app's page with
its form rendered from the definition, test call, publish/disable, runs with progress (HTMX polls
the run while it is running), safe Markdown outputs, artifact downloads and the user's history."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import RequestValidationError
from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from hiraga.apps import forms, registry, runs, views
from hiraga.apps.admin_protocol import AppCreate
from hiraga.apps.markdown import safe_markdown
from hiraga.apps.wiring import RUNTIME_KEY
from hiraga.bounds import DbInt, RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.gateway.wiring import registry_rules
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.web.deps import DbSession, app_context
from hiraga.web.error_responses import validation_error
from hiraga.web.pages.rendering import PageRoute, PageScope, is_htmx, redirect, render, render_failure

router = APIRouter(route_class=PageRoute, include_in_schema=False)
INPUT_PREFIX = "in_"
FORM_ERROR_STATUSES = frozenset({400, 404, 409, 429})


def _runtime(request: Request) -> runs.AppRuntime:
    runtime: runs.AppRuntime = app_context(request).extras[RUNTIME_KEY]
    return runtime


def _admin_teams(db: Session, scope: AccessScope) -> list[Any]:
    p = scope.principal
    return [t for t in directory.list_teams(db, scope) if p.is_system_admin or t.id in p.admin_team_ids]


@router.get("/apps")
def app_list(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    apps = registry.list_apps(db, scope)
    may_register = scope.principal.is_system_admin or scope.principal.is_team_admin
    return render(request, "apps/list.html", {"apps": apps, "may_register": may_register, "notice": notice})


def _new_context(db: Session, scope: AccessScope, values: dict[str, Any]) -> dict[str, Any]:
    return {"teams": _admin_teams(db, scope), "values": values}


@router.get("/apps/new")
def new_app_page(request: Request, db: DbSession, scope: PageScope) -> Response:
    scope.require_admin_of_any_team()
    values = {"mode": "sync", "timeout_seconds": 60, "classification": 1, "form_definition": ""}
    return render(request, "apps/new.html", _new_context(db, scope, values))


def _spec(form: dict[str, Any], team_ids: list[int]) -> AppCreate:
    try:
        definition = json.loads(form["form_definition"] or "null")
    except json.JSONDecodeError as exc:
        message = f"フォーム定義が JSON として読めません（{exc.lineno} 行目付近）。"
        raise InvalidInput(message, code="invalid_form_definition", detail={"field": "form_definition"}) from exc
    if not isinstance(definition, dict):
        raise InvalidInput("フォーム定義は JSON オブジェクトにしてください。", detail={"field": "form_definition"})
    try:
        return AppCreate.model_validate(
            {
                **{k: form[k] for k in ("slug", "name", "description", "endpoint_url", "mode")},
                "api_key": SecretStr(form["api_key"]) if form["api_key"] else None,
                "form_definition": definition,
                "chat": form["chat"] == "on",
                "external": form["external"] == "on",
                "timeout_seconds": int(form["timeout_seconds"] or 60),
                "classification": int(form["classification"] or 1),
                "owner_team_id": int(form["owner_team_id"] or 0),
                "team_ids": team_ids,
            },
            strict=False,
        )
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise validation_error_for(exc) from exc
        raise InvalidInput("数値の項目に数字以外が入力されています。") from exc


def validation_error_for(exc: ValidationError) -> InvalidInput:
    return validation_error(RequestValidationError(exc.errors()))


@router.post("/apps/new")
async def create_app(request: Request, db: DbSession, scope: PageScope) -> Response:
    scope.require_admin_of_any_team()
    posted = await request.form()
    names = ("slug", "name", "description", "endpoint_url", "api_key", "form_definition", "mode", "chat")
    more = ("external", "timeout_seconds", "classification", "owner_team_id")
    form = {k: str(posted.get(k) or "") for k in (*names, *more)}
    team_ids = [int(str(t)) for t in posted.getlist("team_ids") if str(t).isdigit()]
    echo = {k: v for k, v in form.items() if k != "api_key"} | {"team_ids": team_ids}
    ctx = app_context(request)
    try:
        spec = _spec(form, team_ids)
        app = views.audited_write(
            ctx.database,
            db,
            scope,
            "app_register",
            lambda: registry.create_app(db, scope, spec, registry_rules(ctx.settings)),
            f"app:{spec.slug}",
        )
    except HiragaError as error:
        if error.status not in FORM_ERROR_STATUSES and error.status != 403:
            raise
        return render_failure(request, db, "apps/new.html", error, lambda: _new_context(db, scope, echo))
    return redirect(request, f"/apps/{app.slug}?notice=app_registered")


def _detail_context(request: Request, db: Session, scope: AccessScope, slug: str) -> dict[str, Any]:
    app = registry.get_app(db, scope, slug=slug)
    return {
        "app": app,
        "description": safe_markdown(app.description),
        "fields": registry.definition_of(app),
        "manage": registry.may_manage(scope.principal, app),
        "history": [views.run_view(r) for r in runs.my_runs(db, scope, app.id, limit=20)],
        "prefix": INPUT_PREFIX,
    }


@router.get("/apps/{slug}")
def app_page(request: Request, slug: str, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "apps/detail.html", _detail_context(request, db, scope, slug) | {"notice": notice})


@router.post("/apps/{slug}/status")
def change_status(
    request: Request, slug: str, db: DbSession, scope: PageScope, status: Annotated[str, Form()] = ""
) -> Response:
    app = registry.get_app(db, scope, slug=slug)
    database = app_context(request).database
    views.audited_write(database, db, scope, "app_update", lambda: registry.set_status(db, scope, app.id, status))
    return redirect(request, f"/apps/{slug}?notice=app_{status}")


async def _run_request(request: Request) -> runs.RunRequest:
    posted = await request.form()
    values: dict[str, Any] = {}
    uploads: dict[str, list[forms.Upload]] = {}
    for name, value in posted.multi_items():
        if not name.startswith(INPUT_PREFIX):
            continue
        key = name[len(INPUT_PREFIX) :]
        if isinstance(value, UploadFile):
            uploads.setdefault(key, []).append(forms.Upload(value.filename or "", await value.read()))
        else:
            values[key] = value
    return runs.RunRequest(values=values, uploads=uploads, test_call=posted.get("test_call") == "1", from_text=True)


@router.post("/apps/{slug}/run")
async def start_run(request: Request, slug: str, db: DbSession, scope: PageScope) -> Response:
    runtime = _runtime(request)
    run_request = await _run_request(request)

    def begin() -> tuple[int, runs.PreparedRun]:
        app = registry.get_app(db, scope, slug=slug)
        db.commit()  # the run is written in transactions of its own
        return runtime.begin(app, scope.principal, run_request)

    try:
        run_id, prepared = await asyncio.to_thread(begin)
    except HiragaError as error:
        if error.status not in FORM_ERROR_STATUSES and error.status != 403:
            raise
        if is_htmx(request):
            return render(request, "apps/_run.html", {"error": error, "slug": slug}, status=error.status)
        return render_failure(request, db, "apps/detail.html", error, lambda: _detail_context(request, db, scope, slug))
    runtime.start(run_id, prepared)
    if is_htmx(request):
        return _run_fragment(request, db, scope, slug, run_id)
    return redirect(request, f"/apps/{slug}/runs/{run_id}")


def _run_fragment(request: Request, db: Session, scope: AccessScope, slug: str, run_id: RowId) -> Response:
    run = views.get_run(db, scope, run_id)
    view = views.run_view(run)
    context = {"run": view, "slug": slug, "outputs": safe_markdown(view.outputs), "poll_s": 1}
    if view.status == "running":
        age = max(0.0, (datetime.now(UTC) - run.created_at).total_seconds())
        context["poll_s"] = min(5, 1 + int(age // 10))  # back off while it takes long
    return render(request, "apps/_run.html", context)


@router.get("/apps/{slug}/runs/{run_id}")
def run_page(request: Request, slug: str, run_id: RowId, db: DbSession, scope: PageScope) -> Response:
    if is_htmx(request):
        return _run_fragment(request, db, scope, slug, run_id)
    app = registry.get_app(db, scope, slug=slug)
    view = views.run_view(views.get_run(db, scope, run_id, app.id))
    context = {"app": app, "run": view, "slug": slug, "outputs": safe_markdown(view.outputs), "poll_s": 2}
    return render(request, "apps/run.html", context)


@router.get("/apps/{slug}/runs/{run_id}/artifacts/{index}")
def artifact(slug: str, run_id: RowId, index: DbInt, db: DbSession, scope: PageScope) -> Response:
    app = registry.get_app(db, scope, slug=slug)
    name, data = views.artifact_bytes(views.get_run(db, scope, run_id, app.id), index)
    safe_name = "".join(c for c in name if c.isalnum() or c in "._-") or "artifact"
    disposition = f"attachment; filename=\"{safe_name}\"; filename*=UTF-8''{_quote(name)}"
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="application/octet-stream", headers=headers)


def _quote(name: str) -> str:
    return quote(name, safe="")
