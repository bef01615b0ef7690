"""/api/v1/apps (registered Gennai-protocol apps and their runs) and /api/v1/provided-apps (hiraga's
own apps over the protocol, and their keys). Thin: the services decide everything."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hiraga.apps import provider_side, registry, runs, views
from hiraga.apps.admin_protocol import (
    AppCreate,
    AppUpdate,
    AppView,
    IssuedProvidedKey,
    ProvidedApp,
    ProvidedKey,
    ProvidedKeyCreate,
    RunCreate,
    RunView,
)
from hiraga.apps.provider_jobs import ProvidedRunner
from hiraga.apps.wiring import RUNTIME_KEY
from hiraga.bounds import RowId
from hiraga.gateway.wiring import registry_rules
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import DbSession, Scope, TeamAdminScope, app_context
from hiraga.web.gennai.routes import RUNNER_KEY

router = APIRouter(prefix="/api/v1/apps", tags=["AI アプリ"], responses=ERROR_RESPONSES)
provided = APIRouter(prefix="/api/v1/provided-apps", tags=["AI アプリ（提供側）"], responses=ERROR_RESPONSES)


def _runtime(request: Request) -> runs.AppRuntime:
    runtime: runs.AppRuntime = app_context(request).extras[RUNTIME_KEY]
    return runtime


@router.get("", summary="見えるアプリの一覧")
def list_apps(db: DbSession, scope: Scope) -> list[AppView]:
    return [views.app_view(app) for app in registry.list_apps(db, scope)]


@router.post("", status_code=201, summary="アプリの登録")
def create_app(body: AppCreate, request: Request, db: DbSession, scope: TeamAdminScope) -> AppView:
    ctx = app_context(request)
    rules = registry_rules(ctx.settings)
    app = views.audited_write(
        ctx.database, db, scope, "app_register", lambda: registry.create_app(db, scope, body, rules), f"app:{body.slug}"
    )
    return views.app_view(app)


@router.get("/{app_id}", summary="アプリの詳細")
def get_app(app_id: RowId, db: DbSession, scope: Scope) -> AppView:
    return views.app_view(registry.get_app(db, scope, app_id))


@router.patch("/{app_id}", summary="アプリの変更・公開・停止")
def update_app(app_id: RowId, body: AppUpdate, request: Request, db: DbSession, scope: Scope) -> AppView:
    ctx = app_context(request)
    rules = registry_rules(ctx.settings)
    app = views.audited_write(
        ctx.database, db, scope, "app_update", lambda: registry.update_app(db, scope, app_id, body, rules)
    )
    return views.app_view(app)


@router.delete("/{app_id}", status_code=204, response_class=Response, summary="アプリの削除")
def delete_app(app_id: RowId, request: Request, db: DbSession, scope: Scope) -> None:
    views.audited_write(
        app_context(request).database, db, scope, "app_delete", lambda: registry.delete_app(db, scope, app_id)
    )


@router.post("/{app_id}/runs", status_code=201, summary="アプリの実行（終わるまで待つ）")
async def run_app(app_id: RowId, body: RunCreate, request: Request, db: DbSession, scope: Scope) -> RunView:
    runtime = _runtime(request)

    def begin() -> tuple[int, runs.PreparedRun]:
        app = registry.get_app(db, scope, app_id)
        db.commit()  # the run is written in transactions of its own: release this one first
        return runtime.begin(app, scope.principal, views.run_request(body))

    run_id, prepared = await views.in_thread(begin)
    error = await runtime.execute(run_id, prepared)
    if error is not None:
        error.detail = {"run_id": run_id}
        raise error
    return await views.in_thread(lambda: _run_view(runtime, scope, run_id))


def _run_view(runtime: runs.AppRuntime, scope: Scope, run_id: RowId) -> RunView:
    with runtime.database.session() as db:
        return views.run_view(views.get_run(db, scope, run_id))


@router.get("/{app_id}/runs", summary="自分の実行履歴")
def list_runs(app_id: RowId, db: DbSession, scope: Scope) -> list[RunView]:
    registry.get_app(db, scope, app_id)
    return [views.run_view(run) for run in runs.my_runs(db, scope, app_id)]


# -- hiraga's own apps ------------------------------------------------------------------------------
def _runner(request: Request) -> ProvidedRunner:
    runner: ProvidedRunner = app_context(request).extras[RUNNER_KEY]
    return runner


@provided.get("", summary="hiraga のアプリ（プロトコルで呼べるもの）")
def list_provided(request: Request, scope: Scope) -> list[ProvidedApp]:
    apps = _runner(request).apps
    return [
        ProvidedApp(
            name=name,
            title=app.definition().title,
            description=app.definition().description,
            url_path=f"/gennai/apps/{name}",
            form_definition=app.definition().form,
        )
        for name, app in sorted(apps.items())
    ]


@provided.get("/keys", summary="提供アプリの API キー一覧（管理するチームの分）")
def list_provided_keys(db: DbSession, scope: Scope) -> list[ProvidedKey]:
    return [ProvidedKey.model_validate(row) for row in provider_side.visible_keys(db, scope)]


@provided.post("/keys", status_code=201, summary="提供アプリの API キーを発行")
def issue_provided_key(
    body: ProvidedKeyCreate, request: Request, db: DbSession, scope: TeamAdminScope
) -> IssuedProvidedKey:
    app_name = body.app_name
    apps = _runner(request).apps
    issued = views.audited_write(
        app_context(request).database,
        db,
        scope,
        "provided_app_key_issue",
        lambda: provider_side.issue_key(db, scope, apps, app_name, body.name, body.team_id),
        f"app:{app_name}",
    )
    return IssuedProvidedKey.model_validate(
        {**ProvidedKey.model_validate(issued.row).model_dump(), "secret": issued.secret}
    )


@provided.delete(
    "/keys/{provided_key_id}", status_code=204, response_class=Response, summary="提供アプリの API キーを失効"
)
def revoke_provided_key(provided_key_id: RowId, request: Request, db: DbSession, scope: Scope) -> None:
    key_id = provided_key_id
    views.audited_write(
        app_context(request).database,
        db,
        scope,
        "provided_app_key_revoke",
        lambda: provider_side.revoke_key(db, scope, key_id),
    )
