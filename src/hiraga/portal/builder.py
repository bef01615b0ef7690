"""Builder apps (「ユースケースから作る」): a team admin writes a prompt template, the portal makes
the form, and the app is published to chosen teams. Members of those teams see and run it; to
anyone else it does not exist. Exported and imported as JSON (teams are chosen on import)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from hiraga.apps import forms
from hiraga.errors import InvalidInput, NotFound
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.names import check_characters
from hiraga.portal.attachments import extract_all
from hiraga.portal.builder_template import Placeholder, fill, form_of, parse_template
from hiraga.portal.context_window import input_budget
from hiraga.portal.conversations import check_classification
from hiraga.portal.models import ModelChoice
from hiraga.portal.task_apps.base import PortalRunContext, TaskResult, result
from hiraga.portal.task_apps.tool_rounds import RunTools
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import Classification
from hiraga.store.tables import BuilderApp, BuilderAppTeam, Team

EXPORT_FORMAT = "hiraga.builder-app/1"


@dataclass(frozen=True, slots=True)
class BuilderSpec:
    name: str
    template: str
    team_ids: Sequence[int]
    owner_team_id: int
    description: str = ""
    classification: int = 1
    use_tools: bool = False  # offered the team's MCP tools (an opt-in: an app made before never calls them)


def _name(raw: str) -> str:
    name = check_characters(" ".join(raw.split()))
    if not name or len(name) > 200:
        raise InvalidInput("アプリ名を 1〜200 文字で入力してください。", code="invalid_name", detail={"field": "name"})
    return name


def _teams(db: Session, scope: AccessScope, team_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(team_ids))
    if not wanted:
        raise InvalidInput("公開するチームを 1 つ以上選んでください。", code="no_teams", detail={"field": "team_ids"})
    for team_id in wanted:
        if db.get(Team, team_id) is None:
            raise NotFound("指定されたチームが見つかりません。", detail={"field": "team_ids"})
        scope.require_team_admin(team_id)
    return wanted


def create(db: Session, scope: AccessScope, spec: BuilderSpec) -> BuilderApp:
    scope.require_team_admin(spec.owner_team_id)
    parse_template(spec.template)
    row = BuilderApp(
        name=_name(spec.name),
        description=spec.description.strip()[:2000],
        template=spec.template,
        classification=check_classification(spec.classification),
        use_tools=spec.use_tools,
        owner_team_id=spec.owner_team_id,
        created_by=scope.principal.user_id,
        teams=[BuilderAppTeam(team_id=t) for t in _teams(db, scope, spec.team_ids)],
    )
    db.add(row)
    db.flush()
    return row


def _visible(principal: Principal) -> Select[BuilderApp]:
    query = select(BuilderApp)
    if principal.is_system_admin:
        return query
    published_to_mine = exists().where(
        BuilderAppTeam.app_id == BuilderApp.id, BuilderAppTeam.team_id.in_(principal.team_ids)
    )
    return query.where(or_(published_to_mine, BuilderApp.owner_team_id.in_(principal.admin_team_ids)))


def list_visible(db: Session, principal: Principal) -> list[BuilderApp]:
    return list(db.scalars(_visible(principal).order_by(BuilderApp.name, BuilderApp.id)))


def get(db: Session, principal: Principal, app_id: int) -> BuilderApp:
    row = db.scalar(_visible(principal).where(BuilderApp.id == app_id))
    if row is None:
        raise NotFound("指定されたアプリが見つかりません。", code="builder_app_not_found")
    return row


def may_manage(principal: Principal, app: BuilderApp) -> bool:
    return principal.is_system_admin or app.owner_team_id in principal.admin_team_ids


def remove(db: Session, scope: AccessScope, app_id: int) -> None:
    row = get(db, scope.principal, app_id)
    scope.require_team_admin(row.owner_team_id)
    db.delete(row)
    db.flush()


def export(app: BuilderApp) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "name": app.name,
        "description": app.description,
        "template": app.template,
        "classification": app.classification,
        "use_tools": app.use_tools,
    }


def spec_from_export(data: Any, owner_team_id: int, team_ids: Sequence[int]) -> BuilderSpec:
    """An exported app back into a spec; anything not in the export format is refused."""
    if not isinstance(data, Mapping) or data.get("format") != EXPORT_FORMAT:
        raise InvalidInput(
            f"読み込めるのは hiraga が書き出したアプリ（format: {EXPORT_FORMAT}）の JSON だけです。",
            code="invalid_export",
            detail={"field": "file"},
        )
    fields: dict[str, type] = {
        "name": str,
        "template": str,
        "description": str,
        "classification": int,
        "use_tools": bool,  # absent in files exported before tools: no tools
    }
    for key, kind in fields.items():
        if key in data and not isinstance(data[key], kind):
            raise InvalidInput(
                f"JSON の「{key}」の型が正しくありません。", code="invalid_export", detail={"field": key}
            )
    return BuilderSpec(
        name=data.get("name", ""),
        template=data.get("template", ""),
        description=data.get("description", ""),
        classification=data.get("classification", 1),
        use_tools=data.get("use_tools", False),
        owner_team_id=owner_team_id,
        team_ids=team_ids,
    )


def placeholders_of(app: BuilderApp) -> list[Placeholder]:
    return parse_template(app.template)


def form(app: BuilderApp) -> forms.FormDefinition:
    return form_of(placeholders_of(app))


@dataclass(frozen=True, slots=True)
class BuilderRun:
    app_id: int
    name: str
    template: str
    classification: int
    use_tools: bool = False

    @classmethod
    def of(cls, row: BuilderApp) -> BuilderRun:
        return cls(row.id, row.name, row.template, row.classification, row.use_tools)


def run_level(app: BuilderRun, chosen: int) -> int:
    """The run's 機密性: the higher of the app's and the one the user chose."""
    return max(app.classification, check_classification(chosen))


async def run(
    gateway: Gateway,
    principal: Principal,
    app: BuilderRun,
    values: Mapping[str, Any],
    uploads: Mapping[str, Sequence[forms.Upload]],
    model: ModelChoice,
    classification: int,
    max_output_tokens: int,
    tools: RunTools | None = None,
) -> TaskResult:
    """Fill the template with the form's values (files as their text) and ask the model. The run's
    機密性 is the higher of the app's and the one the user chose. ``tools`` are offered only when
    the app opted in (``use_tools``); a call that must be approved raises ``RunHeld``."""
    placeholders = parse_template(app.template)
    definition = form_of(placeholders)
    checked = forms.check_inputs(definition, values, uploads, from_text=True)
    files = forms.decode_files(definition, checked.files)
    context = PortalRunContext(
        app_name=f"builder:{app.app_id}",
        principal=principal,
        team_id=min(principal.team_ids) if principal.team_ids else 0,
        gateway=gateway,
        model=model.name,
        classification=Classification(run_level(app, classification)),
        context_window=model.context_window,
        max_output_tokens=max_output_tokens,
        tools=tools if app.use_tools else None,
    )
    text_values = {k: str(v) for k, v in checked.inputs.items()}
    budget = input_budget(model.context_window, max_output_tokens) - len(app.template)
    for key, group in files.items():
        extracted = extract_all(group, max(0, budget // max(1, len(files))))
        context.notices.extend(n for f in extracted if (n := f.notice()))
        text_values[key] = "\n".join(f.text for f in extracted)
    prompt = fill(app.template, placeholders, text_values)
    answer = await context.chat([{"role": "user", "content": prompt}], max_tokens=max_output_tokens)
    return result(answer.strip(), context)
