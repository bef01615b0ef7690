"""/api/v1 of the portal's apps: the task apps, bots and builder apps (「ユースケースから作る」)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from hiraga.apps import forms
from hiraga.apps.protocol import FileGroup
from hiraga.bounds import RowId
from hiraga.errors import InvalidInput
from hiraga.identity.principal import Principal
from hiraga.mcp import app_runs
from hiraga.portal import bots, builder, catalogue, task_history
from hiraga.portal import protocol as wire
from hiraga.portal.models import default_model, model_choices, pick
from hiraga.portal.task_apps import runner
from hiraga.portal.task_apps.base import TaskResult
from hiraga.portal.task_apps.tool_rounds import RunHeld
from hiraga.web.api import schemas
from hiraga.web.api.portal import classification_or_default, gateway_of, in_thread
from hiraga.web.deps import CurrentPrincipal, DbSession, Scope, TeamAdminScope, app_context

router = APIRouter(prefix="/api/v1", tags=["ポータル"], responses=schemas.ERROR_RESPONSES)


# -- task apps ------------------------------------------------------------------------------------
@router.get("/task-apps", summary="タスクアプリの一覧とフォーム定義")
def list_task_apps(principal: CurrentPrincipal) -> list[wire.TaskAppView]:
    return [
        wire.TaskAppView(
            name=i.name, title=i.definition.title, description=i.definition.description, form=i.definition.form
        )
        for i in runner.task_apps()
    ]


def run_result(result: TaskResult) -> wire.AppRunResult:
    return wire.AppRunResult(
        outputs=result.shown,  # the checks travel in ``checks``, not twice
        models=list(dict.fromkeys(u.model_version for u in result.usage)),
        checks=result.checks,
        changes=[wire.ChangeView(before=c.before, after=c.after, reason=c.reason) for c in result.changes],
        notices=result.notices,
        usage_metadata=[u.wire() for u in result.usage],
    )


def file_groups(files: list[dict[str, Any]]) -> list[FileGroup]:
    try:
        return [FileGroup.model_validate(g) for g in files]
    except ValueError as exc:
        raise InvalidInput("files の形式が正しくありません。", code="invalid_app_input") from exc


@router.post("/task-apps/{name}/run", summary="タスクアプリの実行")
async def run_task_app(
    request: Request, name: str, body: wire.AppRunRequest, db: DbSession, principal: CurrentPrincipal
) -> wire.AppRunResult:
    ctx = app_context(request)
    _, info = runner.task_app(name)  # 404 before anything else
    await in_thread(db, lambda: None)  # end the read transaction before the (long) model call
    choices = await model_choices(gateway_of(ctx), principal)
    run = runner.TaskRun(
        name=name,
        values=body.inputs,
        uploads=forms.decode_files(info.form, file_groups(body.files)),
        model=pick(choices, body.model) if body.model else pick(choices, default_model(choices)),
        classification=classification_or_default(body.classification, ctx.settings),
    )
    wanted = runner.task_uses_tools(name)
    tools = await in_thread(
        db, lambda: app_runs.tools_of(ctx, db, principal, run.model, run.classification, opted_in=wanted)
    )
    prepared = runner.prepare_task(gateway_of(ctx), principal, run, ctx.settings.portal_max_output_tokens, tools=tools)
    await in_thread(db, lambda: catalogue.record_use(db, principal.user_id, f"/tasks/{name}"))
    try:
        return run_result(await runner.execute(prepared))
    except RunHeld as held:
        return await held_result(request, db, principal, name, body.inputs, held)


async def held_result(
    request: Request, db: Session, principal: Principal, app_name: str, inputs: dict[str, Any], held: RunHeld
) -> wire.AppRunResult:
    """A run stopped by a call that waits: kept (status held) with its calls, for the decision to go on."""
    database, excerpt = app_context(request).database, task_history.excerpt_of(inputs, [])
    run_id = await in_thread(db, lambda: app_runs.keep_held(database, principal, app_name, excerpt, held))
    view = await in_thread(
        db,
        lambda: app_runs.run_view(
            app_runs.held_record(held, held.context), run_id, app_runs.run_calls(db, principal, run_id)
        ),
    )
    return wire.AppRunResult.model_validate(view)


# -- bots -----------------------------------------------------------------------------------------
@router.get("/bots", summary="使えるボット（チームで共有されたシステムプロンプト）")
def list_bots(db: DbSession, principal: CurrentPrincipal) -> list[wire.Bot]:
    return [wire.Bot.model_validate(b) for b in bots.list_usable(db, principal)]


@router.post("/bots", status_code=201, summary="ボットの作成（チーム管理者）")
def create_bot(body: wire.BotCreate, db: DbSession, scope: TeamAdminScope) -> wire.Bot:
    row = bots.create(db, scope, body.team_id, body.name, body.system_prompt, body.description)
    return wire.Bot.model_validate(row)


@router.delete("/bots/{bot_id}", status_code=204, response_class=Response, summary="ボットの削除（チーム管理者）")
def delete_bot(bot_id: RowId, db: DbSession, scope: Scope) -> None:
    bots.remove(db, scope, bot_id)


# -- builder apps ---------------------------------------------------------------------------------
def builder_view(row: Any) -> wire.BuilderApp:
    form = {k: f.model_dump() for k, f in builder.form(row).items()}
    return wire.BuilderApp(
        id=row.id,
        name=row.name,
        description=row.description,
        template=row.template,
        classification=row.classification,
        use_tools=row.use_tools,
        owner_team_id=row.owner_team_id,
        team_ids=row.team_ids,
        form=form,
        created_at=row.created_at,
    )


@router.get("/builder-apps", summary="見えるビルダーアプリの一覧")
def list_builder_apps(db: DbSession, principal: CurrentPrincipal) -> list[wire.BuilderApp]:
    return [builder_view(a) for a in builder.list_visible(db, principal)]


@router.post("/builder-apps", status_code=201, summary="ビルダーアプリの作成・読み込み（チーム管理者）")
def create_builder_app(body: wire.BuilderAppCreate, db: DbSession, scope: TeamAdminScope) -> wire.BuilderApp:
    if body.format is not None:
        exported = body.model_dump(include={"format", "name", "template", "description", "classification", "use_tools"})
        spec = builder.spec_from_export(exported, body.owner_team_id, body.team_ids)
    else:
        spec = builder.BuilderSpec(
            name=body.name,
            template=body.template,
            description=body.description,
            classification=body.classification,
            use_tools=body.use_tools,
            owner_team_id=body.owner_team_id,
            team_ids=body.team_ids,
        )
    return builder_view(builder.create(db, scope, spec))


@router.get("/builder-apps/{builder_app_id}", summary="ビルダーアプリ（export=true で書き出し用 JSON）")
def get_builder_app(builder_app_id: RowId, db: DbSession, principal: CurrentPrincipal, export: bool = False) -> Any:
    row = builder.get(db, principal, builder_app_id)
    return builder.export(row) if export else builder_view(row)


@router.delete(
    "/builder-apps/{builder_app_id}", status_code=204, response_class=Response, summary="ビルダーアプリの削除"
)
def delete_builder_app(builder_app_id: RowId, db: DbSession, scope: Scope) -> None:
    builder.remove(db, scope, builder_app_id)


@router.post("/builder-apps/{builder_app_id}/run", summary="ビルダーアプリの実行")
async def run_builder_app(
    request: Request, builder_app_id: RowId, body: wire.AppRunRequest, db: DbSession, principal: CurrentPrincipal
) -> wire.AppRunResult:
    ctx = app_context(request)
    row = await in_thread(db, lambda: builder.get(db, principal, builder_app_id))
    app = builder.BuilderRun.of(row)
    choices = await model_choices(gateway_of(ctx), principal)
    model = pick(choices, body.model) if body.model else pick(choices, default_model(choices))
    level = classification_or_default(body.classification, ctx.settings)
    values = {k: str(v) for k, v in body.inputs.items()}
    tools = await in_thread(
        db, lambda: app_runs.tools_of(ctx, db, principal, model, builder.run_level(app, level), opted_in=app.use_tools)
    )
    await in_thread(db, lambda: catalogue.record_use(db, principal.user_id, f"/builder/{builder_app_id}"))
    try:
        result = await builder.run(
            gateway_of(ctx),
            principal,
            app,
            values,
            forms.decode_files(builder.form(row), file_groups(body.files)),
            model,
            level,
            ctx.settings.portal_max_output_tokens,
            tools,
        )
    except RunHeld as held:
        return await held_result(request, db, principal, f"builder:{app.app_id}", values, held)
    return run_result(result)
