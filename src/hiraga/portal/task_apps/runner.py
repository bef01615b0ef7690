"""Running an app of the ``hiraga.apps`` extension point from the portal: inputs checked against
its form, the user's model and 機密性 on every call, and the answer as a TaskResult."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from hiraga.apps import forms
from hiraga.apps.provider_side import App, AppDefinition, AppResult, discover_apps, lookup
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.portal.models import ModelChoice
from hiraga.portal.task_apps.base import PortalRunContext, TaskResult
from hiraga.portal.task_apps.streaming import TaskEvents
from hiraga.portal.task_apps.tool_rounds import RunTools
from hiraga.spine.call import Classification


@dataclass(frozen=True, slots=True)
class TaskAppInfo:
    name: str
    definition: AppDefinition
    form: forms.FormDefinition

    @property
    def url(self) -> str:
        return f"/tasks/{self.name}"


@cache
def installed_apps() -> dict[str, App]:
    return discover_apps()


def task_apps(apps: Mapping[str, App] | None = None) -> list[TaskAppInfo]:
    found = installed_apps() if apps is None else apps
    infos = []
    for name, app in sorted(found.items()):
        definition = app.definition()
        if definition.chat:
            continue  # chat-style apps take a history; the portal's chat covers them
        infos.append(TaskAppInfo(name=name, definition=definition, form=forms.parse_definition(definition.form)))
    return infos


def task_app(name: str) -> tuple[App, TaskAppInfo]:
    app = lookup(installed_apps(), name)
    definition = app.definition()
    return app, TaskAppInfo(name=name, definition=definition, form=forms.parse_definition(definition.form))


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One run's request, as the page or the API took it in."""

    name: str
    values: Mapping[str, Any]
    uploads: Mapping[str, Sequence[forms.Upload]]
    model: ModelChoice
    classification: int
    from_form: bool = False


@dataclass(frozen=True, slots=True)
class PreparedTask:
    """A run whose inputs passed the app's form: ready to call the model."""

    app: App
    inputs: dict[str, Any]
    uploads: dict[str, list[forms.Upload]]
    context: PortalRunContext


def prepare_task(
    gateway: Gateway,
    principal: Principal,
    request: TaskRun,
    max_output_tokens: int,
    events: TaskEvents | None = None,
    tools: RunTools | None = None,
) -> PreparedTask:
    """Check the inputs against the app's form (bad input raises before any model call). ``tools``
    are offered only to an app that declares ``uses_tools`` (a single-pass app: its answer is its
    one model call's text, so a held run can go on without the app)."""
    app, info = task_app(request.name)
    checked = forms.check_inputs(info.form, request.values, request.uploads, from_text=request.from_form)
    uploads = forms.decode_files(info.form, checked.files)
    context = PortalRunContext(
        app_name=request.name,
        principal=principal,
        team_id=min(principal.team_ids) if principal.team_ids else 0,
        gateway=gateway,
        model=request.model.name,
        classification=Classification(request.classification),
        context_window=request.model.context_window,
        max_output_tokens=max_output_tokens,
        events=events,
        tools=tools if uses_tools(app) else None,
    )
    return PreparedTask(app, checked.inputs, uploads, context)


def uses_tools(app: App) -> bool:
    return getattr(app, "uses_tools", False) is True


def task_uses_tools(name: str) -> bool:
    """Whether the task app of that name may be offered tools (unknown name: NotFound)."""
    return uses_tools(task_app(name)[0])


async def execute(prepared: PreparedTask) -> TaskResult:
    await prepared.context.progress("文章を読み取り、モデルに送っています")
    outcome = await prepared.app.run(prepared.inputs, prepared.uploads, prepared.context)
    result = as_task_result(outcome, prepared.context)
    context = prepared.context
    result.prompt = result.prompt or list(context.sent)
    result.classification, result.requested_model = int(context.classification), context.model
    return result


async def run_task(gateway: Gateway, principal: Principal, request: TaskRun, max_output_tokens: int) -> TaskResult:
    return await execute(prepare_task(gateway, principal, request, max_output_tokens))


def as_task_result(outcome: AppResult, context: PortalRunContext) -> TaskResult:
    if isinstance(outcome, TaskResult):
        return outcome
    return TaskResult(
        outputs=outcome.outputs, usage=outcome.usage, artifacts=outcome.artifacts, notices=list(context.notices)
    )
