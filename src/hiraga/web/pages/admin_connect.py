"""「モデルを接続する」: the first-run path to a real model for system administrators. One short
form (an OpenAI-compatible server — vLLM, SGLang, Ollama, llama.cpp server — or a local GGUF file),
then the connection test, a tiny Japanese sanity check and advice on which tasks to route there,
with one button that makes it the default model (the built-in model stays as the fallback)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import EndpointCreate
from hiraga.gateway.probe import routing_advice
from hiraga.gateway.protocol import validated
from hiraga.portal.first_run import builtin_model
from hiraga.web.api.models import gateway as gateway_of
from hiraga.web.api.models import rules as rules_of
from hiraga.web.deps import DbSession
from hiraga.web.pages.admin_models import commit_catalog_change
from hiraga.web.pages.rendering import PageRoute, SystemAdminPageScope, form_answer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SERVER, GGUF = "server", "gguf"
DEFAULTS = {"source": SERVER, "name": "", "base_url": "", "upstream_model": "", "model_path": ""}


def connect_spec(source: str, form: dict[str, str], api_key: str) -> EndpointCreate:
    """The endpoint the form describes: usable by every team, internal, 機密性2 by default."""
    values: dict[str, Any] = {"name": form["name"].strip(), "kind": "chat", "all_teams": True, "clearance": 2}
    if source == GGUF:
        values |= {"provider": "embedded", "model_path": form["model_path"].strip()}
    else:
        values |= {"provider": "openai", "base_url": form["base_url"].strip(), "upstream_model": form["upstream_model"]}
        if api_key:
            values["api_key"] = api_key
    return validated(EndpointCreate, values)


@router.get("/admin/models/connect")
def connect_page(request: Request, scope: SystemAdminPageScope) -> Response:
    return render(request, "admin_connect.html", {"form": DEFAULTS, "builtin": builtin_model()})


@router.post("/admin/models/connect")
def connect(
    request: Request,
    db: DbSession,
    scope: SystemAdminPageScope,
    source: Annotated[str, Form()] = SERVER,
    name: Annotated[str, Form()] = "",
    base_url: Annotated[str, Form()] = "",
    upstream_model: Annotated[str, Form()] = "",
    model_path: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
) -> Response:
    form = {"source": source, "name": name, "base_url": base_url, "upstream_model": upstream_model}
    form["model_path"] = model_path
    created: list[int] = []

    def action() -> None:
        row = registry.create_endpoint(db, scope, connect_spec(source, form, api_key), rules_of(request))
        created.append(row.id)

    return form_answer(
        request,
        db,
        action,
        success=lambda: commit_catalog_change(request, db, f"/admin/models/{created[0]}/check"),
        template="admin_connect.html",
        context=lambda: {"form": form, "builtin": builtin_model()},
    )


@router.get("/admin/models/{endpoint_id:int}/check")
async def check_page(request: Request, db: DbSession, scope: SystemAdminPageScope, endpoint_id: RowId) -> Response:
    """接続テストと日本語の簡易チェック (a few short calls straight to the endpoint)."""
    name = registry.find_endpoint(db, endpoint_id).name
    db.rollback()  # no transaction held across the model calls
    gateway = gateway_of(request)
    gateway.catalog.invalidate()
    probe = await gateway.probe(name)
    answers = await gateway.sanity(name) if probe.ok else []
    level, advice = routing_advice(answers) if answers else ("poor", "")
    context = {"endpoint_id": endpoint_id, "name": name, "probe": probe, "answers": answers}
    return render(request, "admin_connect_check.html", {**context, "level": level, "advice": advice})


@router.post("/admin/models/{endpoint_id:int}/make-default")
def make_default(request: Request, db: DbSession, scope: SystemAdminPageScope, endpoint_id: RowId) -> Response:
    name = registry.find_endpoint(db, endpoint_id).name
    registry.put_first_in_alias(db, scope, "default", name)
    return commit_catalog_change(request, db, "/admin/models?notice=default_model_set")
