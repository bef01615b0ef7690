"""Model registry pages for system administrators: endpoints (add, edit, remove, 接続テスト), aliases,
and the policy page (default classification, each endpoint's clearance and PII policy).

Every write goes through ``hiraga.gateway.registry`` / ``platform_policy`` with the caller's scope;
these handlers only translate forms and choose the answer. The upstream API key is write-only:
it is never put into a page, not even after a failed form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from hiraga import plugins
from hiraga.bounds import RowId
from hiraga.errors import InvalidInput
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import NAME_PATTERN, AliasSet, EndpointCreate, EndpointUpdate, EndpointView
from hiraga.gateway.platform_policy import PlatformPolicy, default_classification, set_default_classification
from hiraga.gateway.protocol import validated
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.web.api.models import gateway as gateway_of
from hiraga.web.api.models import rules as rules_of
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PageRoute, PageScope, commit_and_redirect, form_redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TEXT_FIELDS = ("name", "provider", "kind", "description", "base_url", "upstream_model", "api_version", "model_path")
NUMBER_FIELDS = (
    "context_window",
    "price_input_per_1k",
    "price_output_per_1k",
    "clearance",
    "timeout_seconds",
    "max_concurrent",
)
FLAGS = ("external", "all_teams", "enabled")
OPTIONAL_TEXT = ("api_version", "model_path")


@dataclass(frozen=True, slots=True)
class EndpointForm:
    """An endpoint form as submitted: ``values`` for validation, ``echo`` to show again (no key)."""

    values: dict[str, Any]
    echo: dict[str, Any]
    api_key: str = field(default="", repr=False)
    remove_api_key: bool = False

    def create_spec(self) -> EndpointCreate:
        extra = {"api_key": self.api_key} if self.api_key else {}
        return validated(EndpointCreate, {**self.values, **extra})

    def changes(self) -> EndpointUpdate:
        values = {k: v for k, v in self.values.items() if k in EndpointUpdate.model_fields}
        if self.api_key or self.remove_api_key:
            values["api_key"] = self.api_key  # "" removes the stored key
        return validated(EndpointUpdate, values)


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,、\s]+", text) if part.strip()]


def parse_endpoint_form(form: FormData) -> EndpointForm:
    values: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        if key in form:
            text = str(form[key]).strip()
            values[key] = (text or None) if key in OPTIONAL_TEXT else text
    for key in NUMBER_FIELDS:
        text = str(form.get(key) or "").strip()
        if text:
            values[key] = text
    values.update({flag: flag in form for flag in FLAGS})
    values["pii_policy"] = str(form.get("pii_policy") or "mask")
    values["team_ids"] = [int(str(v)) for v in form.getlist("team_ids") if str(v).isdigit()]
    values["tags"] = _split(str(form.get("tags") or ""))
    if "aliases" in form:
        values["aliases"] = _split(str(form["aliases"]))
    echo = {**values, "tags": str(form.get("tags") or ""), "aliases": str(form.get("aliases") or "")}
    return EndpointForm(values, echo, str(form.get("api_key") or ""), "remove_api_key" in form)


async def endpoint_form(request: Request) -> EndpointForm:
    return parse_endpoint_form(await request.form())


SubmittedEndpoint = Annotated[EndpointForm, Depends(endpoint_form)]


def view_echo(view: EndpointView) -> dict[str, Any]:
    """An endpoint as the edit form shows it (``has_api_key``, never the key)."""
    return {**view.model_dump(), "tags": ", ".join(view.tags)}


# -- shared plumbing ---------------------------------------------------------------------------------
def commit_catalog_change(request: Request, db: Session, url: str) -> Response:
    """Commit, let the gateway see the change at once, and go to ``url`` (PRG); for writes without a form."""
    return commit_and_redirect(request, db, url, after_commit=lambda: _refresh_gateway(request))


def _refresh_gateway(request: Request) -> None:
    """Drop the gateway's cached catalog and platform policy, so the next call sees a committed change."""
    gateway_of(request).catalog.invalidate()
    policy: PlatformPolicy | None = app_context(request).extras.get("platform_policy")
    if policy is not None:
        policy.invalidate()


def _on_models_page(
    request: Request, db: Session, scope: AccessScope, action: Callable[[], object], notice: str, **extra: Any
) -> Response:
    """A write whose form is on the endpoint list: errors show that page again with ``extra``."""
    return form_redirect(
        request,
        db,
        action,
        then=f"/admin/models?notice={notice}",
        template="admin_models.html",
        context=lambda: models_context(request, db, scope, **extra),
        after_commit=lambda: _refresh_gateway(request),
    )


def _on_policy_page(request: Request, db: Session, scope: AccessScope, action: Callable[[], object]) -> Response:
    return form_redirect(
        request,
        db,
        action,
        then="/admin/policy?notice=policy_saved",
        template="admin_models_policy.html",
        context=lambda: policy_context(request, db, scope),
        after_commit=lambda: _refresh_gateway(request),
    )


def models_context(request: Request, db: Session, scope: AccessScope, **extra: Any) -> dict[str, Any]:
    scope.require_system_admin()
    views = [registry.view(db, row) for row in registry.list_endpoints(db, scope)]
    router = gateway_of(request).router
    return {
        "endpoints": views,
        "health": {view.id: router.health(view.id) for view in views},
        "teams": {team.id: team for team in directory.list_teams(db, scope)},
        "aliases": registry.list_aliases(db),
        "providers": sorted(plugins.discover("providers")),
        "form": {"external": True, "enabled": True, "pii_policy": "mask", "clearance": 1, "kind": "chat"},
        **extra,
    }


def edit_context(request: Request, db: Session, scope: AccessScope, endpoint_id: RowId, **extra: Any) -> dict[str, Any]:
    scope.require_system_admin()
    view = registry.view(db, registry.find_endpoint(db, endpoint_id))
    return {
        "endpoint": view,
        "teams": {team.id: team for team in directory.list_teams(db, scope)},
        "providers": sorted(plugins.discover("providers")),
        "form": view_echo(view),
        **extra,
    }


# -- endpoints -----------------------------------------------------------------------------------------
@router.get("/admin/models")
def models_page(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "admin_models.html", models_context(request, db, scope, notice=notice))


@router.post("/admin/models")
def create_endpoint(request: Request, db: DbSession, scope: PageScope, submitted: SubmittedEndpoint) -> Response:
    scope.require_system_admin()
    action = lambda: registry.create_endpoint(db, scope, submitted.create_spec(), rules_of(request))  # noqa: E731
    return _on_models_page(request, db, scope, action, "model_created", form=submitted.echo)


@router.get("/admin/models/{endpoint_id:int}")
def edit_page(request: Request, db: DbSession, scope: PageScope, endpoint_id: RowId, notice: str = "") -> Response:
    return render(request, "admin_models_edit.html", edit_context(request, db, scope, endpoint_id, notice=notice))


@router.post("/admin/models/{endpoint_id:int}")
def update_endpoint(
    request: Request, db: DbSession, scope: PageScope, endpoint_id: RowId, submitted: SubmittedEndpoint
) -> Response:
    scope.require_system_admin()
    action = lambda: registry.update_endpoint(db, scope, endpoint_id, submitted.changes(), rules_of(request))  # noqa: E731

    def context() -> dict[str, Any]:
        page = edit_context(request, db, scope, endpoint_id)
        return {**page, "form": {**page["form"], **submitted.echo}}

    return form_redirect(
        request,
        db,
        action,
        then=f"/admin/models/{endpoint_id}?notice=model_saved",
        template="admin_models_edit.html",
        context=context,
        after_commit=lambda: _refresh_gateway(request),
    )


@router.post("/admin/models/{endpoint_id:int}/delete")
def delete_endpoint(request: Request, db: DbSession, scope: PageScope, endpoint_id: RowId) -> Response:
    action = lambda: registry.delete_endpoint(db, scope, endpoint_id)  # noqa: E731
    return _on_models_page(request, db, scope, action, "model_deleted")


@router.post("/admin/models/{endpoint_id:int}/test")
async def test_endpoint(request: Request, scope: PageScope, endpoint_id: RowId) -> Response:
    """接続テスト: one short request straight to the endpoint; the result is shown on its own page."""
    scope.require_system_admin()
    gateway = gateway_of(request)
    catalog = await gateway.catalog.get()
    name = next((ep.name for ep in catalog.endpoints.values() if ep.id == endpoint_id), str(endpoint_id))
    result = await gateway.probe(name)
    return render(request, "admin_models_test.html", {"result": result, "endpoint_id": endpoint_id})


# -- aliases -------------------------------------------------------------------------------------------
def parse_members(text: str) -> AliasSet:
    """One endpoint per line, optionally followed by its priority (default: the line's position)."""
    members = []
    for position, line in enumerate(ln for ln in text.splitlines() if ln.strip()):
        name, _, priority = line.strip().partition(" ")
        members.append({"endpoint": name, "priority": priority.strip() or position})
    try:
        return validated(AliasSet, {"members": members})
    except InvalidInput as exc:
        raise InvalidInput(
            "接続先は 1 行に 1 つ、「接続先名 優先度」の形で指定してください（優先度は 0〜1000、省略可）。",
            detail={"field": "members", "problem": exc.detail},
        ) from None


def check_alias_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise InvalidInput(
            "別名には英数字と . _ : / @ + - を使い、100 文字以内で指定してください。", detail={"field": "alias_name"}
        )
    return name


@router.post("/admin/models/aliases")
def set_alias(
    request: Request,
    db: DbSession,
    scope: PageScope,
    alias_name: Annotated[str, Form()] = "",
    members: Annotated[str, Form()] = "",
) -> Response:
    scope.require_system_admin()
    name = alias_name.strip()
    action = lambda: registry.set_alias(db, scope, check_alias_name(name), parse_members(members).members)  # noqa: E731
    alias_form = {"alias_name": name, "members": members}
    return _on_models_page(request, db, scope, action, "alias_saved", alias_form=alias_form)


@router.post("/admin/models/aliases/delete")
def delete_alias(
    request: Request, db: DbSession, scope: PageScope, alias_name: Annotated[str, Form()] = ""
) -> Response:
    action = lambda: registry.delete_alias(db, scope, alias_name)  # noqa: E731
    return _on_models_page(request, db, scope, action, "alias_deleted")


# -- policy --------------------------------------------------------------------------------------------
def policy_context(request: Request, db: Session, scope: AccessScope, **extra: Any) -> dict[str, Any]:
    scope.require_system_admin()
    fallback = app_context(request).settings.default_classification
    return {
        "default_classification": int(default_classification(db, fallback)),
        "endpoints": [registry.view(db, row) for row in registry.list_endpoints(db, scope)],
        **extra,
    }


@router.get("/admin/policy")
def policy_page(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "admin_models_policy.html", policy_context(request, db, scope, notice=notice))


@router.post("/admin/policy/default-classification")
def save_default_classification(
    request: Request, db: DbSession, scope: PageScope, default_classification: Annotated[str, Form()] = ""
) -> Response:
    return _on_policy_page(request, db, scope, lambda: set_default_classification(db, scope, default_classification))


@router.post("/admin/policy/endpoints/{endpoint_id:int}")
def save_endpoint_policy(
    request: Request,
    db: DbSession,
    scope: PageScope,
    endpoint_id: RowId,
    clearance: Annotated[str, Form()] = "",
    pii_policy: Annotated[str, Form()] = "",
) -> Response:
    def action() -> object:
        changes = validated(EndpointUpdate, {"clearance": clearance, "pii_policy": pii_policy})
        return registry.update_endpoint(db, scope, endpoint_id, changes, rules_of(request))

    return _on_policy_page(request, db, scope, action)
