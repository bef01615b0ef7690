"""Task app pages (/tasks/{name}: a form generated from the app's definition, the run streamed like
chat (task_runs.py), the result with the model that answered, checks and changes, and the user's
history of runs) and the catalogue (/catalogue: search, favourites)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from hiraga.apps.forms import Upload
from hiraga.bounds import RowId
from hiraga.errors import HiragaError
from hiraga.identity.principal import Principal
from hiraga.knowledge import service as kb_service
from hiraga.mcp import app_runs
from hiraga.portal import catalogue, task_history
from hiraga.portal.models import BUILTIN_NOTE, ModelChoice, model_choices, pick
from hiraga.portal.task_apps import runner
from hiraga.portal.task_apps.tool_rounds import RunHeld
from hiraga.spine.authorize import AccessScope
from hiraga.web.api.portal import gateway_of, in_thread
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages import task_runs
from hiraga.web.pages.chat import LEVELS, wants_stream
from hiraga.web.pages.home import CATALOGUE_KEY
from hiraga.web.pages.mcp import DecisionForm, decide_for_run
from hiraga.web.pages.rendering import (
    PagePrincipal,
    PageRoute,
    PageScope,
    local_path,
    redirect,
    render,
    render_failure,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FORM_ERRORS = frozenset({400, 404, 413, 422})


async def form_values(request: Request) -> tuple[dict[str, str], dict[str, list[Upload]]]:
    form = await request.form()
    values: dict[str, str] = {}
    uploads: dict[str, list[Upload]] = {}
    for key, value in form.multi_items():
        if key in ("csrf_token", "model", "classification"):
            continue
        if isinstance(value, UploadFile):
            if value.filename:
                uploads.setdefault(key, []).append(Upload(value.filename, await value.read()))
        else:
            values[key] = value
    return values, uploads


def page_context(
    request: Request, db: Session, principal: Principal, choices: list[ModelChoice], name: str, **extra: Any
) -> dict[str, Any]:
    _, info = runner.task_app(name)
    return {
        "app": info,
        "suggestions": suggestions(db, principal, info),
        "choices": choices,
        "levels": LEVELS,
        "default_level": app_context(request).settings.default_classification,
        "builtin_note": BUILTIN_NOTE,
        "values": {},
        "history": task_history.history(db, principal, name),
        **extra,
    }


def suggestions(db: Session, principal: Principal, info: runner.TaskAppInfo) -> dict[str, list[str]]:
    """The lists a form's ``suggest`` fields offer (only what the user may read)."""
    wanted = {getattr(f, "suggest", None) for f in info.form.values()}
    if "knowledge_bases" not in wanted:
        return {}
    return {"knowledge_bases": [kb.name for kb in kb_service.list_knowledge_bases(db, AccessScope(principal))]}


@router.get("/tasks/{name}")
async def task_page(request: Request, name: str, db: DbSession, principal: PagePrincipal) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    return render(request, "portal/task_app.html", page_context(request, db, principal, choices, name))


@router.post("/tasks/{name}")
async def run_task_page(
    request: Request,
    name: str,
    db: DbSession,
    principal: PagePrincipal,
    model: Annotated[str, Form()] = "",
    classification: Annotated[int, Form()] = 0,
) -> Response:
    """Streamed (SSE) when the page's script asks for it, else awaited and shown with the page.
    Bad input shows the form again with the error, before any model call."""
    ctx = app_context(request)
    gateway = gateway_of(ctx)
    choices = await model_choices(gateway, principal)
    values, uploads = await form_values(request)
    level = classification or ctx.settings.default_classification
    excerpt = task_history.excerpt_of(values, [u.filename for group in uploads.values() for u in group])
    events = task_runs.PageEvents() if wants_stream(request) else None
    try:
        run = runner.TaskRun(name, values, uploads, pick(choices, model), level, from_form=True)
        wanted = runner.task_uses_tools(name)
        tools = await in_thread(db, lambda: app_runs.tools_of(ctx, db, principal, run.model, level, opted_in=wanted))
        limit = ctx.settings.portal_max_output_tokens
        prepared = runner.prepare_task(gateway, principal, run, limit, events, tools)
        await in_thread(db, lambda: catalogue.record_use(db, principal.user_id, f"/tasks/{name}"))
        if events is not None:
            return task_runs.TaskStream(request, prepared, events, name=name, choices=choices, excerpt=excerpt)
        result = await runner.execute(prepared)
    except RunHeld as held:
        run_id = await in_thread(db, partial(app_runs.keep_held, ctx.database, principal, name, excerpt, held))
        return redirect(request, f"/tasks/{name}/runs/{run_id}#tool-calls")
    except HiragaError as error:
        if error.status not in FORM_ERRORS:
            raise
        await in_thread(db, db.rollback)
        failed = page_context(request, db, principal, choices, name, values=values, error=error, level=level)
        return render(request, "portal/task_app.html", {**failed, "chosen": model}, status=error.status)
    record = task_history.record_of(result)
    calls = app_runs.held_calls(prepared.context)  # read-only calls that ran: shown with the run
    keep = partial(task_runs.keep_run, ctx.database, principal, name, excerpt, record, result.artifacts, calls)
    kept = await in_thread(db, keep)
    shown = task_runs.result_context(name, record, choices, kept.run_id, kept.training_notice, kept.tool_calls)
    context = page_context(request, db, principal, choices, name, values=values, chosen=model, level=level, **shown)
    return render(request, "portal/task_app.html", context)


@router.get("/tasks/{name}/runs/{run_id}")
async def show_run(
    request: Request, name: str, run_id: RowId, db: DbSession, principal: PagePrincipal, notice: str = ""
) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    return render(request, "portal/task_app.html", run_context(request, db, principal, choices, name, run_id, notice))


def run_context(
    request: Request, db: Session, principal: Principal, choices: list[ModelChoice], name: str, run_id: int, notice: str
) -> dict[str, Any]:
    """A kept run's page: its result, and its tool calls (a held one with the decision form)."""
    row = task_history.get(db, principal, name, run_id)
    record = task_history.record_from_row(row)
    calls = app_runs.run_calls(db, principal, row.id)
    shown = task_runs.result_context(name, record, choices, row.id, task_runs.notice_of(db, principal, record), calls)
    return page_context(request, db, principal, choices, name, shown_run=row, notice=notice, **shown)


@router.post("/tasks/{name}/runs/{run_id}/tool-calls/{call_id}")
async def decide_tool_call(
    request: Request,
    name: str,
    run_id: RowId,
    call_id: RowId,
    db: DbSession,
    principal: PagePrincipal,
    form: DecisionForm,
) -> Response:
    """A held call of the run decided by the user who ran it; once none of that answer waits, the
    run goes on to its answer. A refused decision shows the run again with the error."""
    await in_thread(db, lambda: task_history.get(db, principal, name, run_id))  # another's or another app's: 404
    try:
        await decide_for_run(request, db, principal, run_id, call_id, form)
    except HiragaError as error:
        choices = await model_choices(gateway_of(app_context(request)), principal)
        context = lambda: run_context(request, db, principal, choices, name, run_id, "")  # noqa: E731
        return render_failure(request, db, "portal/task_app.html", error, context)
    return redirect(request, f"/tasks/{name}/runs/{run_id}#result")


# -- catalogue ------------------------------------------------------------------------------------
def user_catalogue(request: Request, db: Session, scope: Any) -> list[catalogue.Entry]:
    hook = app_context(request).extras.get(CATALOGUE_KEY)
    found = hook(db, scope) if callable(hook) else catalogue.entries(db, scope)
    return [e for e in found if isinstance(e, catalogue.Entry)]


@router.get("/catalogue")
def catalogue_page(request: Request, db: DbSession, scope: PageScope, q: str = "", notice: str = "") -> Response:
    found = user_catalogue(request, db, scope)
    return render(
        request,
        "portal/catalogue.html",
        {
            "apps": catalogue.search(found, q[:200]),
            "recent": catalogue.recent(found),
            "q": q[:200],
            "notice": notice,
        },
    )


@router.post("/catalogue/favourite")
def toggle_favourite(
    request: Request,
    db: DbSession,
    scope: PageScope,
    url: Annotated[str, Form()] = "",
    favourite: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/catalogue",
) -> Response:
    principal: Principal = scope.principal
    catalogue.set_favourite(db, principal.user_id, url, favourite == "1", user_catalogue(request, db, scope))
    target = local_path(back, "/catalogue")
    return redirect(request, target + ("&" if "?" in target else "?") + "notice=favourite_saved")
