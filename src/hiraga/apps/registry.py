"""The app registry: register, change, publish, disable and remove Gennai-protocol apps.

Framework-free. Team administrators manage the apps of the teams they administer and publish
them to those teams; system administrators manage every app. Members see published apps that
are published to one of their teams. API keys are encrypted before they reach the database and
never come back out except to call the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hiraga.apps import forms
from hiraga.apps.admin_protocol import AppCreate, AppUpdate
from hiraga.errors import Conflict, Forbidden, InvalidInput, NotFound
from hiraga.gateway.registry import RegistryRules
from hiraga.gateway.ssrf import check_upstream_url
from hiraga.identity.principal import Principal
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import RegisteredApp, RegisteredAppTeam, Team

PUBLISHED, DRAFT, DISABLED = "published", "draft", "disabled"


def _not_found() -> NotFound:
    return NotFound("指定されたアプリが見つかりません。", code="app_not_found")


def may_manage(principal: Principal, app: RegisteredApp) -> bool:
    return principal.is_system_admin or app.owner_team_id in principal.admin_team_ids


def charged_team(principal: Principal, app: RegisteredApp, *, test_call: bool) -> int:
    """The team a run is charged to; refuses callers who may not run the app now."""
    if test_call:
        if not may_manage(principal, app):
            raise Forbidden("テスト実行はアプリの管理者のみが行えます。")
        if app.status == DISABLED:
            raise Forbidden("停止中のアプリは実行できません。", code="app_disabled")
        return app.owner_team_id
    if app.status != PUBLISHED:
        if may_manage(principal, app):
            message = "このアプリは公開されていません（公開前は「テスト実行」を使ってください）。"
            raise Forbidden(message, code="app_not_published")
        raise _not_found()
    teams = principal.team_ids & set(app.team_ids)
    if not teams:
        if may_manage(principal, app):
            return app.owner_team_id
        raise _not_found()
    return min(teams)


def _visible(scope: AccessScope) -> Select[RegisteredApp]:
    p = scope.principal
    query = select(RegisteredApp)
    if p.is_system_admin:
        return query
    published_to_mine = exists().where(
        RegisteredAppTeam.app_id == RegisteredApp.id, RegisteredAppTeam.team_id.in_(p.team_ids)
    )
    conditions: list[Any] = [(RegisteredApp.status == PUBLISHED) & published_to_mine]
    if p.admin_team_ids:
        conditions.append(RegisteredApp.owner_team_id.in_(p.admin_team_ids))
    return query.where(or_(*conditions))


def list_apps(db: Session, scope: AccessScope) -> list[RegisteredApp]:
    return list(db.scalars(_visible(scope).order_by(RegisteredApp.name, RegisteredApp.id)))


def get_app(db: Session, scope: AccessScope, app_id: int | None = None, slug: str | None = None) -> RegisteredApp:
    query = _visible(scope)
    query = query.where(RegisteredApp.id == app_id) if app_id is not None else query.where(RegisteredApp.slug == slug)
    app = db.scalar(query)
    if app is None:
        raise _not_found()
    return app


def _manageable(db: Session, scope: AccessScope, app_id: int) -> RegisteredApp:
    app = get_app(db, scope, app_id)
    if not may_manage(scope.principal, app):
        raise Forbidden("このアプリを管理できるのは、管理チームの管理者とシステム管理者です。")
    return app


def _check_endpoint(url: str, rules: RegistryRules) -> str:
    url = url.strip()
    try:
        check_upstream_url(url, rules.allowed_hosts)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, code=exc.code, detail={"field": "endpoint_url"}) from exc
    return url


def _set_teams(db: Session, scope: AccessScope, app: RegisteredApp, team_ids: Iterable[int]) -> None:
    wanted = sorted(set(team_ids))
    found = set(db.scalars(select(Team.id).where(Team.id.in_(wanted)))) if wanted else set()
    for team_id in wanted:
        if team_id not in found or not scope.can_see_team(team_id):
            raise InvalidInput(f"公開先のチーム ID {team_id} が見つかりません。", detail={"field": "team_ids"})
        if not (scope.principal.is_system_admin or team_id in scope.principal.admin_team_ids):
            raise Forbidden(f"チーム ID {team_id} への公開は、そのチームの管理者のみが行えます。")
    app.teams = [RegisteredAppTeam(team_id=t) for t in wanted]


def create_app(db: Session, scope: AccessScope, spec: AppCreate, rules: RegistryRules) -> RegisteredApp:
    scope.require_team_admin(spec.owner_team_id)
    if not check_characters(spec.name):
        raise InvalidInput("アプリ名を入力してください。", detail={"field": "name"})
    definition = forms.parse_definition(spec.form_definition)
    key = spec.api_key.get_secret_value().strip() if spec.api_key else ""
    app = RegisteredApp(
        slug=spec.slug,
        name=spec.name,
        description=spec.description,
        endpoint_url=_check_endpoint(spec.endpoint_url, rules),
        api_key_encrypted=rules.box.encrypt(key) if key else None,
        form_definition=forms.definition_json(definition),
        mode=spec.mode,
        chat=spec.chat,
        timeout_seconds=spec.timeout_seconds,
        classification=spec.classification,
        external=spec.external,
        status=spec.status,
        owner_team_id=spec.owner_team_id,
        created_by=scope.principal.user_id or None,
    )
    _set_teams(db, scope, app, spec.team_ids)
    db.add(app)
    _flush(db, spec.slug)
    return app


def _flush(db: Session, slug: str) -> None:
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as exc:
        raise Conflict(f"「{slug}」という名前のアプリは既に登録されています。", detail={"field": "slug"}) from exc


PLAIN_FIELDS = ("name", "description", "mode", "chat", "timeout_seconds", "classification", "external", "status")


def update_app(db: Session, scope: AccessScope, app_id: int, spec: AppUpdate, rules: RegistryRules) -> RegisteredApp:
    app = _manageable(db, scope, app_id)
    for name in PLAIN_FIELDS:
        value = getattr(spec, name)
        if value is not None:
            setattr(app, name, check_characters(value.strip()) if name == "name" else value)
    if spec.endpoint_url is not None:
        app.endpoint_url = _check_endpoint(spec.endpoint_url, rules)
    if spec.form_definition is not None:
        app.form_definition = forms.definition_json(forms.parse_definition(spec.form_definition))
    if spec.api_key is not None:
        key = spec.api_key.get_secret_value().strip()
        app.api_key_encrypted = rules.box.encrypt(key) if key else None
    if spec.team_ids is not None:
        _set_teams(db, scope, app, spec.team_ids)
    _flush(db, app.slug)
    return app


def set_status(db: Session, scope: AccessScope, app_id: int, status: str) -> RegisteredApp:
    if status not in (DRAFT, PUBLISHED, DISABLED):
        raise InvalidInput("状態は draft・published・disabled のいずれかです。", detail={"field": "status"})
    app = _manageable(db, scope, app_id)
    app.status = status
    db.flush()
    return app


def delete_app(db: Session, scope: AccessScope, app_id: int) -> None:
    app = _manageable(db, scope, app_id)
    db.delete(app)
    db.flush()


def find_by_slug(db: Session, slug: str) -> RegisteredApp:
    """For the operator's CLI: any app by its slug."""
    app = db.scalar(select(RegisteredApp).where(RegisteredApp.slug == slug))
    if app is None:
        raise _not_found()
    return app


def definition_of(app: RegisteredApp) -> forms.FormDefinition:
    return forms.parse_definition(app.form_definition)
