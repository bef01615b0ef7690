"""Builder pages (「ユースケースから作る」): team admins write a prompt template and publish it to
teams; members of those teams run it through the generated form. Export and import as JSON."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.mcp import app_runs
from hiraga.portal import builder, catalogue, task_history
from hiraga.portal.builder_template import KINDS
from hiraga.portal.markdown import render_markdown
from hiraga.portal.models import BUILTIN_NOTE, ModelChoice, model_choices, pick
from hiraga.portal.task_apps.tool_rounds import RunHeld
from hiraga.portal.task_history import record_of
from hiraga.spine.authorize import AccessScope
from hiraga.web.api.portal import gateway_of, in_thread
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.chat import LEVELS
from hiraga.web.pages.mcp import DecisionForm, decide_for_run
from hiraga.web.pages.rendering import PagePrincipal, PageRoute, PageScope, redirect, render, render_failure
from hiraga.web.pages.task_apps import FORM_ERRORS, form_values
from hiraga.web.pages.task_runs import result_view

router = APIRouter(route_class=PageRoute, include_in_schema=False)
EXAMPLE = (
    "{{件名}} について、{{読み手:選択=住民|職員|事業者}} 向けのお知らせ文を書いてください。\n\n補足:\n{{補足:長文}}"
)
KIND_NAMES = sorted({k for k in KINDS if k and not k.isascii()})


def list_context(db: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    admin_teams = [t for t in directory.list_teams(db, AccessScope(principal)) if t.id in principal.admin_team_ids]
    if principal.is_system_admin:
        admin_teams = list(directory.list_teams(db, AccessScope(principal)))
    return {
        "apps": builder.list_visible(db, principal),
        "admin_teams": admin_teams,
        "levels": LEVELS,
        "example": EXAMPLE,
        "form": {},
        **extra,
    }


@router.get("/builder")
def builder_home(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "portal/builder_list.html", list_context(db, scope.principal, notice=notice))


def _create(
    request: Request, db: Session, scope: AccessScope, spec: builder.BuilderSpec, echo: dict[str, Any]
) -> Response:
    try:
        row = builder.create(db, scope, spec)
    except HiragaError as error:
        if error.status not in (400, 404):
            raise
        context = lambda: list_context(db, scope.principal, form=echo)  # noqa: E731
        return render_failure(request, db, "portal/builder_list.html", error, context)
    return redirect(request, f"/builder/{row.id}?notice=app_created")


@router.post("/builder")
def create_app(
    request: Request,
    db: DbSession,
    scope: PageScope,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "",
    classification: Annotated[int, Form()] = 1,
    owner_team_id: Annotated[RowId, Form()] = 0,
    team_ids: Annotated[list[RowId] | None, Form()] = None,
    use_tools: Annotated[str, Form()] = "",
) -> Response:
    spec = builder.BuilderSpec(
        name=name,
        template=template,
        description=description,
        classification=classification,
        use_tools=use_tools == "1",
        owner_team_id=owner_team_id,
        team_ids=team_ids or [],
    )
    echo: dict[str, Any] = {"name": name, "description": description, "template": template}
    echo |= {"team_ids": team_ids or [], "use_tools": use_tools == "1"}
    return _create(request, db, scope, spec, echo)


@router.post("/builder/import")
async def import_app(
    request: Request,
    db: DbSession,
    scope: PageScope,
    file: Annotated[UploadFile | None, File()] = None,
    owner_team_id: Annotated[RowId, Form()] = 0,
    team_ids: Annotated[list[RowId] | None, Form()] = None,
) -> Response:
    raw = await file.read() if file is not None else b""

    def run() -> Any:
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            error = InvalidInput("JSON ファイルとして読み取れません。", code="invalid_export", detail={"field": "file"})
            return render_failure(
                request, db, "portal/builder_list.html", error, lambda: list_context(db, scope.principal)
            )
        try:
            spec = builder.spec_from_export(data, owner_team_id, team_ids or [])
        except HiragaError as error:
            return render_failure(
                request, db, "portal/builder_list.html", error, lambda: list_context(db, scope.principal)
            )
        return _create(request, db, scope, spec, {})

    response: Response = await in_thread(db, run)
    return response


def app_context_of(request: Request, db: Session, principal: Principal, app_id: RowId, **extra: Any) -> dict[str, Any]:
    row = builder.get(db, principal, app_id)
    return {
        "app": row,
        "form": builder.form(row),
        "may_manage": builder.may_manage(principal, row),
        "levels": LEVELS,
        "default_level": max(row.classification, app_context(request).settings.default_classification),
        "builtin_note": BUILTIN_NOTE,
        "values": {},
        **extra,
    }


@router.get("/builder/{app_id}")
async def app_page(
    request: Request, app_id: RowId, db: DbSession, principal: PagePrincipal, notice: str = ""
) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    context = await in_thread(
        db, lambda: app_context_of(request, db, principal, app_id, choices=choices, notice=notice)
    )
    return render(request, "portal/builder_app.html", context)


@router.post("/builder/{app_id}")
async def run_app(
    request: Request,
    app_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    model: Annotated[str, Form()] = "",
    classification: Annotated[int, Form()] = 0,
) -> Response:
    ctx = app_context(request)
    choices = await model_choices(gateway_of(ctx), principal)
    base = await in_thread(db, lambda: app_context_of(request, db, principal, app_id, choices=choices))
    row = base["app"]
    values, uploads = await form_values(request)
    level = classification or base["default_level"]
    spec = builder.BuilderRun.of(row)
    try:
        choice = pick(choices, model)
        tools = await in_thread(
            db,
            partial(
                app_runs.tools_of, ctx, db, principal, choice, builder.run_level(spec, level), opted_in=spec.use_tools
            ),
        )
        result = await builder.run(
            gateway_of(ctx), principal, spec, values, uploads, choice, level,
            ctx.settings.portal_max_output_tokens, tools,
        )  # fmt: skip
    except RunHeld as held:
        excerpt = task_history.excerpt_of(values, [u.filename for group in uploads.values() for u in group])
        keep = partial(app_runs.keep_held, ctx.database, principal, run_name(app_id), excerpt, held)
        run_id = await in_thread(db, keep)
        return redirect(request, f"/builder/{app_id}/runs/{run_id}#tool-calls")
    except HiragaError as error:
        if error.status not in FORM_ERRORS:
            raise
        context = {**base, "values": values, "error": error, "chosen": model, "level": level}
        return render(request, "portal/builder_app.html", context, status=error.status)
    await in_thread(db, lambda: catalogue.record_use(db, principal.user_id, f"/builder/{app_id}"))
    result_data = result_view(record_of(result), choices)
    context = {**base, "values": values, "chosen": model, "level": level, "result": result_data}
    return render(request, "portal/builder_app.html", {**context, "result_html": render_markdown(result.shown)})


def run_name(app_id: int) -> str:
    """The name a builder app's runs are kept under in the task-run history."""
    return f"builder:{app_id}"


def run_page_context(
    request: Request, db: Session, principal: Principal, app_id: int, run_id: int, choices: list[ModelChoice]
) -> dict[str, Any]:
    """A kept run of a builder app (one held by a tool call, or gone on after the decision)."""
    base = app_context_of(request, db, principal, app_id, choices=choices)
    record = task_history.record_from_row(task_history.get(db, principal, run_name(app_id), run_id))
    return {
        **base,
        "result": result_view(record, choices),
        "result_html": render_markdown(record.text),
        "tool_calls": app_runs.run_calls(db, principal, run_id),
        "run_url": f"/builder/{app_id}/runs/{run_id}",
    }


@router.get("/builder/{app_id}/runs/{run_id}")
async def run_page(request: Request, app_id: RowId, run_id: RowId, db: DbSession, principal: PagePrincipal) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    context = await in_thread(db, lambda: run_page_context(request, db, principal, app_id, run_id, choices))
    return render(request, "portal/builder_app.html", context)


@router.post("/builder/{app_id}/runs/{run_id}/tool-calls/{call_id}")
async def decide_tool_call(
    request: Request,
    app_id: RowId,
    run_id: RowId,
    call_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    form: DecisionForm,
) -> Response:
    """A held call of the run decided by the user who ran it; the run goes on to its answer."""
    await in_thread(db, lambda: task_history.get(db, principal, run_name(app_id), run_id))  # another's run: 404
    try:
        await decide_for_run(request, db, principal, run_id, call_id, form)
    except HiragaError as error:
        choices = await model_choices(gateway_of(app_context(request)), principal)
        context = lambda: run_page_context(request, db, principal, app_id, run_id, choices)  # noqa: E731
        return render_failure(request, db, "portal/builder_app.html", error, context)
    return redirect(request, f"/builder/{app_id}/runs/{run_id}#result")


@router.get("/builder/{app_id}/export")
def export_app(app_id: RowId, db: DbSession, principal: PagePrincipal) -> Response:
    row = builder.get(db, principal, app_id)
    body = json.dumps(builder.export(row), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="builder-app-{row.id}.json"'},
    )


@router.post("/builder/{app_id}/delete")
def delete_app(request: Request, app_id: RowId, db: DbSession, scope: PageScope) -> Response:
    builder.remove(db, scope, app_id)
    return redirect(request, "/builder?notice=app_deleted")
