"""Task app pages (/tasks/{name}: a form generated from the app's definition, the result with the
model that answered, checks and changes) and the catalogue (/catalogue: search, favourites).
Installs the portal's entries into the home page's ``app_catalogue`` hook at startup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from hiraga.apps.forms import Upload
from hiraga.errors import HiragaError
from hiraga.identity.principal import Principal
from hiraga.portal import catalogue
from hiraga.portal.markdown import render_markdown
from hiraga.portal.models import BUILTIN_NOTE, ModelChoice, model_choices, pick
from hiraga.portal.task_apps import runner
from hiraga.portal.task_apps.base import TaskResult
from hiraga.portal.task_apps.proofread import diff_runs
from hiraga.web.api.portal import gateway_of, in_thread
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.chat import LEVELS
from hiraga.web.pages.home import CATALOGUE_KEY
from hiraga.web.pages.rendering import PagePrincipal, PageRoute, PageScope, local_path, redirect, render


@asynccontextmanager
async def install_catalogue(app: FastAPI) -> AsyncIterator[None]:
    extras = app.state.ctx.extras
    extras[CATALOGUE_KEY] = catalogue.hook(extras.get(CATALOGUE_KEY))
    yield


router = APIRouter(route_class=PageRoute, include_in_schema=False, lifespan=install_catalogue)
FORM_ERRORS = frozenset({400, 404, 413, 422})


def result_view(result: TaskResult, choices: list[ModelChoice]) -> dict[str, Any]:
    models = list(dict.fromkeys(u.model_version for u in result.usage))
    builtin = {c.name for c in choices if c.builtin} | {a for c in choices if c.builtin for a in c.alias_of}
    return {
        "models": models,
        "builtin": any(m in builtin for m in models),
        "notices": result.notices,
        "checks": result.checks,
        "changes": result.changes,
        "rule_notes": result.rule_notes,
        "diff": diff_runs(result.source_text, result.changes) if result.changes else [],
    }


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


def page_context(request: Request, choices: list[ModelChoice], name: str, **extra: Any) -> dict[str, Any]:
    _, info = runner.task_app(name)
    return {
        "app": info,
        "choices": choices,
        "levels": LEVELS,
        "default_level": app_context(request).settings.default_classification,
        "builtin_note": BUILTIN_NOTE,
        "values": {},
        **extra,
    }


@router.get("/tasks/{name}")
async def task_page(request: Request, name: str, principal: PagePrincipal) -> Response:
    choices = await model_choices(gateway_of(app_context(request)), principal)
    return render(request, "portal/task_app.html", page_context(request, choices, name))


@router.post("/tasks/{name}")
async def run_task_page(
    request: Request,
    name: str,
    db: DbSession,
    principal: PagePrincipal,
    model: Annotated[str, Form()] = "",
    classification: Annotated[int, Form()] = 0,
) -> Response:
    ctx = app_context(request)
    choices = await model_choices(gateway_of(ctx), principal)
    values, uploads = await form_values(request)
    level = classification or ctx.settings.default_classification
    await in_thread(db, lambda: None)  # end the read transaction before the (long) model call
    try:
        run = runner.TaskRun(name, values, uploads, pick(choices, model), level, from_form=True)
        result = await runner.run_task(gateway_of(ctx), principal, run, ctx.settings.portal_max_output_tokens)
    except HiragaError as error:
        if error.status not in FORM_ERRORS:
            raise
        context = page_context(request, choices, name, values=values, error=error, chosen=model, level=level)
        return render(request, "portal/task_app.html", context, status=error.status)
    await in_thread(db, lambda: catalogue.record_use(db, principal.user_id, f"/tasks/{name}"))
    context = page_context(
        request,
        choices,
        name,
        values=values,
        chosen=model,
        level=level,
        result=result_view(result, choices),
        result_html=render_markdown(result.shown),
    )
    return render(request, "portal/task_app.html", context)


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
