"""hiraga's own apps, callable over the Gennai AI-app protocol — the ``apps`` extension point.

An app is a small object with two methods (``definition`` and ``run``), declared in the
``hiraga.apps`` entry-point group and found by ``hiraga.plugins.discover("apps")``; the built-ins
are declared exactly like third-party apps. Callers authenticate with per-app keys (``x-api-key``,
stored as digests); a run is charged to the key's user and team, and the models it uses go through
the gateway (so policy, usage and audit apply as for any model call).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga import plugins
from hiraga.apps import forms
from hiraga.apps.protocol import AppAnswer, Artifact, CostInfo, FileGroup, TokenCount, UsageEntry
from hiraga.errors import HiragaError, InvalidInput, NotAuthenticated, NotFound, UpstreamFailed
from hiraga.gateway.service import Gateway, cost_of, input_estimate
from hiraga.identity import tokens
from hiraga.identity.principal import Principal
from hiraga.providers.base import EndpointConfig
from hiraga.spine.authenticate import principal_for_user
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import ModelCall, Usage
from hiraga.store.tables import ProvidedAppKey, User

log = logging.getLogger("hiraga.apps")
KEY_PREFIX = "hga-"


class AppDefinition(BaseModel):
    """What a portal needs to show the app: its form (see ``hiraga.apps.forms``) and texts."""

    title: str
    description: str = ""
    form: dict[str, Any]
    chat: bool = False


@dataclass(slots=True)
class AppResult:
    outputs: str
    usage: list[UsageEntry] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)


@dataclass(slots=True)
class RunContext:
    """What an app may use while it runs: the gateway, on behalf of the caller."""

    app_name: str
    principal: Principal
    team_id: int
    gateway: Gateway | None
    usage: list[UsageEntry] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)  # the messages of the call whose answer is shown

    async def chat(self, messages: list[dict[str, str]], *, model: str = "default", max_tokens: int = 512) -> str:
        """One chat completion through the gateway; its usage is added to the run's ``usage``."""
        if self.gateway is None:
            raise UpstreamFailed("モデルゲートウェイが利用できません。", code="gateway_unavailable")
        body: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        call = ModelCall(
            principal=self.principal,
            kind="chat",
            requested_model=model,
            team_id=self.team_id,
            estimated_input_tokens=input_estimate(body),
            max_output_tokens=max_tokens,
            source=f"app:{self.app_name}",
        )
        self.sent = [dict(m) for m in messages]
        text, entry = await chat_through_gateway(self.gateway, call, body)
        self.usage.append(entry)
        return text


async def chat_through_gateway(gateway: Gateway, call: ModelCall, body: dict[str, Any]) -> tuple[str, UsageEntry]:
    """One chat completion through the gateway: the answer's text and its ``usageMetadata`` entry."""
    answer = await gateway.chat(call, body)
    usage = answer.body.get("usage") or {}
    counted = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    choices = answer.body.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or ""), usage_entry(answer.endpoint, counted)


def usage_entry(endpoint: EndpointConfig, counted: Usage) -> UsageEntry:
    """One model call's ``usageMetadata`` entry: the endpoint, its tokens and their cost."""
    return UsageEntry(
        model_version=endpoint.name,
        request_count=1,
        tokens=TokenCount(input_tokens=counted.input_tokens, output_tokens=counted.output_tokens),
        estimated_cost_info=CostInfo(estimated_cost=cost_of(endpoint, counted), currency="JPY"),
    )


@runtime_checkable
class App(Protocol):
    """The apps extension point."""

    def definition(self) -> AppDefinition: ...

    async def run(self, inputs: dict[str, Any], files: dict[str, list[forms.Upload]], context: RunContext) -> AppResult:
        """Raise ``InvalidInput`` for bad input (400), any other HiragaError for a failure (500)."""
        ...


def discover_apps() -> dict[str, App]:
    """name → app, for every installed ``hiraga.apps`` entry point (a class or a factory)."""
    found: dict[str, App] = {}
    for name, factory in plugins.discover("apps").items():
        try:
            app = factory() if callable(factory) else factory
        except Exception:  # one broken plugin must not take the others down
            log.exception("app %s could not be loaded", name)
            continue
        if isinstance(app, App):
            found[name] = app
    return found


def lookup(apps: Mapping[str, App], name: str) -> App:
    app = apps.get(name)
    if app is None:
        raise NotFound(f"アプリ「{name}」はありません。", code="app_not_found")
    return app


def checked_request(app: App, inputs: dict[str, Any], files: list[Any] | None) -> tuple[dict[str, Any], Any]:
    """The protocol's ``inputs`` (files inside or next to them) checked against the app's form."""
    definition = forms.parse_definition(app.definition().form)
    values = {k: v for k, v in inputs.items() if k not in ("files", "chat_history")}
    raw_files = files if files is not None else inputs.get("files") or []
    try:
        groups = [FileGroup.model_validate(g) for g in raw_files]
    except ValueError as exc:
        raise InvalidInput("files の形式が正しくありません。", code="invalid_app_input") from exc
    uploads = forms.decode_files(definition, groups)
    checked = forms.check_inputs(definition, values, uploads)
    if app.definition().chat and isinstance(inputs.get("chat_history"), list):
        checked.inputs["chat_history"] = inputs["chat_history"]
    return checked.inputs, uploads


# -- keys ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IssuedKey:
    row: ProvidedAppKey
    secret: str


def issue_key(
    db: Session, scope: AccessScope, apps: Mapping[str, App], app_name: str, name: str, team_id: int
) -> IssuedKey:
    lookup(apps, app_name)
    scope.require_team_admin(team_id)
    secret = KEY_PREFIX + tokens.new_token(32)
    row = ProvidedAppKey(
        app_name=app_name,
        name=name.strip() or app_name,
        prefix=secret[:12],
        digest=tokens.digest(secret),
        user_id=scope.principal.user_id,
        team_id=team_id,
    )
    db.add(row)
    db.flush()
    return IssuedKey(row, secret)


def visible_keys(db: Session, scope: AccessScope) -> list[ProvidedAppKey]:
    query = select(ProvidedAppKey).where(scope.admin_team_filter(ProvidedAppKey.team_id))
    return list(db.scalars(query.order_by(ProvidedAppKey.id)))


def revoke_key(db: Session, scope: AccessScope, key_id: int) -> None:
    row = db.get(ProvidedAppKey, key_id)
    if row is None or not (scope.principal.is_system_admin or row.team_id in scope.principal.admin_team_ids):
        raise NotFound("指定された API キーが見つかりません。", code="key_not_found")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    db.flush()


def key_holder(db: Session, app_name: str, secret: str | None) -> tuple[ProvidedAppKey, Principal]:
    """The key presented in ``x-api-key`` for this app, and whom it acts for."""
    if not secret:
        raise NotAuthenticated("x-api-key ヘッダーにアプリの API キーを指定してください。", code="missing_api_key")
    row = db.scalar(select(ProvidedAppKey).where(ProvidedAppKey.digest == tokens.digest(secret.strip())))
    if row is None or row.revoked_at is not None or row.app_name != app_name:
        raise NotAuthenticated("API キーが無効です。", code="invalid_api_key")
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("API キーが無効です。", code="invalid_api_key")
    principal = principal_for_user(db, user, via="api_key")
    if row.team_id not in principal.team_ids and not principal.is_system_admin:
        raise NotAuthenticated("API キーの発行者がもうこのチームに所属していません。", code="invalid_api_key")
    return row, principal


def answer_body(result: AppResult) -> dict[str, Any]:
    return AppAnswer(outputs=result.outputs, usage_metadata=result.usage, artifacts=result.artifacts).wire()


def total_cost(result: AppResult) -> Decimal:
    return sum((u.estimated_cost_info.estimated_cost for u in result.usage if u.estimated_cost_info), Decimal(0))


def failure_text(error: BaseException) -> str:
    return error.message if isinstance(error, HiragaError) else "内部エラーが発生しました。"


class ProvidedAppFields(BaseModel):
    """The protocol body as hiraga reads it when serving its own apps."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    files: list[Any] | None = None
