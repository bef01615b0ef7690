"""The model registry service: endpoints and aliases. Framework-free; only system administrators
change it. Upstream API keys are encrypted before they touch the database and never read back out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hiraga import plugins
from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput, NotFound
from hiraga.gateway.admin_protocol import AliasMember, AliasView, EndpointCreate, EndpointUpdate, EndpointView
from hiraga.gateway.secrets import SecretBox
from hiraga.gateway.ssrf import check_upstream_url
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import ModelAlias, ModelEndpoint, ModelEndpointTeam, SystemState, Team

BUILTIN_CHAT = "hiraga-embedded-qwen2.5-coder-0.5b"
BUILTIN_EMBEDDINGS = "hiraga-embedded-e5-small"
BUILTIN_ALIASES = ("default", "hiraga/auto")
BUILTIN_MARKER = "gateway.builtin_endpoints_seeded"


@dataclass(frozen=True, slots=True)
class RegistryRules:
    """What a write is checked against: the secret box and the SSRF allow-list."""

    box: SecretBox
    allowed_hosts: tuple[str, ...] = ()


def _provider_needs_url(provider: str) -> bool:
    factories = plugins.discover("providers")
    if provider not in factories:
        names = "、".join(sorted(factories)) or "なし"
        raise InvalidInput(
            f"プロバイダー「{provider}」は登録されていません（使えるもの: {names}）。", detail={"field": "provider"}
        )
    return bool(getattr(factories[provider], "requires_base_url", True))


def _check_location(row: ModelEndpoint, rules: RegistryRules) -> None:
    if _provider_needs_url(row.provider):
        if not row.base_url:
            raise InvalidInput("接続先 URL（base_url）を指定してください。", detail={"field": "base_url"})
        if not row.upstream_model and row.kind == "chat":
            raise InvalidInput("上流のモデル ID を指定してください。", detail={"field": "upstream_model"})
    if row.base_url:
        check_upstream_url(row.base_url, rules.allowed_hosts)
    if row.model_path:
        from hiraga.providers.embedded.packaged_model import EmbeddedModelError, verify_gguf

        try:
            row.model_path = str(verify_gguf(row.model_path).resolve())
        except EmbeddedModelError as exc:
            raise InvalidInput(exc.message, code=exc.code, detail={"field": "model_path"}) from exc


def _set_teams(db: Session, row: ModelEndpoint, team_ids: Iterable[int]) -> None:
    wanted = sorted(set(team_ids))
    if wanted:
        found = set(db.scalars(select(Team.id).where(Team.id.in_(wanted))))
        missing = [t for t in wanted if t not in found]
        if missing:
            raise InvalidInput(f"チーム ID {missing} が見つかりません。", detail={"field": "team_ids"})
    row.teams = [ModelEndpointTeam(team_id=t) for t in wanted]


def _guard_name(db: Session, name: str) -> None:
    if db.scalar(select(ModelAlias.name).where(ModelAlias.name == name).limit(1)) is not None:
        raise Conflict(f"「{name}」は既に別名（エイリアス）として使われています。", detail={"field": "name"})


def create_endpoint(db: Session, scope: AccessScope, spec: EndpointCreate, rules: RegistryRules) -> ModelEndpoint:
    scope.require_system_admin()
    _guard_name(db, spec.name)
    values = spec.model_dump(exclude={"api_key", "team_ids", "aliases"})
    row = ModelEndpoint(**values)
    if spec.api_key is not None and spec.api_key.get_secret_value():
        row.api_key_encrypted = rules.box.encrypt(spec.api_key.get_secret_value())
    _check_location(row, rules)
    _set_teams(db, row, spec.team_ids)
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError as exc:
        raise Conflict(f"「{spec.name}」という名前のモデルは既にあります。", detail={"field": "name"}) from exc
    for alias in spec.aliases:
        _add_alias_member(db, alias, row, 0)
    facts = spec.model_dump(mode="json", exclude={"api_key"}) | {"api_key_set": spec.api_key is not None}
    events.record(db, events.ENDPOINT_CREATED, scope.principal, subject=row.name, detail=facts)
    return row


def update_endpoint(
    db: Session, scope: AccessScope, name_or_id: str | int, changes: EndpointUpdate, rules: RegistryRules
) -> ModelEndpoint:
    scope.require_system_admin()
    row = find_endpoint(db, name_or_id)
    fields = changes.model_dump(exclude_unset=True, exclude={"api_key", "team_ids"})
    for key, value in fields.items():
        if value is None and key not in ("api_version",):
            raise InvalidInput(f"「{key}」に null は指定できません。", detail={"field": key})
        setattr(row, key, value)
    if "api_key" in changes.model_fields_set:
        secret = changes.api_key.get_secret_value() if changes.api_key is not None else ""
        row.api_key_encrypted = rules.box.encrypt(secret) if secret else None
    if changes.team_ids is not None:
        _set_teams(db, row, changes.team_ids)
    _check_location(row, rules)
    db.flush()
    facts = changes.model_dump(mode="json", exclude_unset=True, exclude={"api_key"})
    if "api_key" in changes.model_fields_set:
        facts["api_key"] = "changed" if changes.api_key is not None else "removed"
    events.record(db, events.ENDPOINT_CHANGED, scope.principal, subject=row.name, detail=facts)
    return row


def delete_endpoint(db: Session, scope: AccessScope, name_or_id: str | int) -> None:
    scope.require_system_admin()
    row = find_endpoint(db, name_or_id)
    db.execute(delete(ModelAlias).where(ModelAlias.endpoint_id == row.id))
    events.record(db, events.ENDPOINT_REMOVED, scope.principal, subject=row.name, detail={"endpoint_id": row.id})
    db.delete(row)
    db.flush()


def find_endpoint(db: Session, name_or_id: str | int) -> ModelEndpoint:
    text = str(name_or_id)
    row = db.scalar(select(ModelEndpoint).where(ModelEndpoint.name == text))
    if row is None and text.isdigit():
        row = db.get(ModelEndpoint, int(text))
    if row is None:
        raise NotFound(f"モデル「{name_or_id}」が見つかりません。", code="model_not_found")
    return row


def list_endpoints(db: Session, scope: AccessScope) -> list[ModelEndpoint]:
    scope.require_system_admin()
    return list(db.scalars(select(ModelEndpoint).order_by(ModelEndpoint.id)))


def view(db: Session, row: ModelEndpoint) -> EndpointView:
    aliases = list(
        db.scalars(select(ModelAlias.name).where(ModelAlias.endpoint_id == row.id).order_by(ModelAlias.name))
    )
    return EndpointView(
        **{k: getattr(row, k) for k in EndpointView.model_fields if hasattr(ModelEndpoint, k)},
        has_api_key=row.api_key_encrypted is not None,
        team_ids=sorted(t.team_id for t in row.teams),
        aliases=aliases,
    )


# -- aliases -----------------------------------------------------------------------------------
def _add_alias_member(db: Session, alias: str, row: ModelEndpoint, priority: int) -> None:
    if alias == row.name or db.scalar(select(ModelEndpoint.id).where(ModelEndpoint.name == alias)) is not None:
        raise Conflict(f"「{alias}」は既にモデル名として使われています。", detail={"field": "aliases"})
    existing = db.get(ModelAlias, (alias, row.id))
    if existing is None:
        db.add(ModelAlias(name=alias, endpoint_id=row.id, priority=priority))
    else:
        existing.priority = priority
    db.flush()


def set_alias(db: Session, scope: AccessScope, name: str, members: list[AliasMember]) -> AliasView:
    """Replace the alias's chain with ``members`` (endpoint names, lower priority tried first)."""
    scope.require_system_admin()
    rows = [(find_endpoint(db, m.endpoint), m.priority) for m in members]
    db.execute(delete(ModelAlias).where(ModelAlias.name == name))
    for row, priority in rows:
        _add_alias_member(db, name, row, priority)
    view = alias_view(db, name)
    events.record(db, events.ALIAS_SET, scope.principal, subject=name, detail=view.model_dump(mode="json"))
    return view


def put_first_in_alias(db: Session, scope: AccessScope, name: str, endpoint: str) -> AliasView:
    """Make ``endpoint`` the alias's first choice; the members it had stay behind it as fallbacks."""
    try:
        kept = [m for m in alias_view(db, name).members if m.endpoint != endpoint]
    except NotFound:
        kept = []
    members = [AliasMember(endpoint=endpoint, priority=0)]
    members += [AliasMember(endpoint=m.endpoint, priority=min(1000, i + 1)) for i, m in enumerate(kept)]
    return set_alias(db, scope, name, members)


def delete_alias(db: Session, scope: AccessScope, name: str) -> None:
    scope.require_system_admin()
    if db.execute(delete(ModelAlias).where(ModelAlias.name == name)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"別名「{name}」が見つかりません。")
    events.record(db, events.ALIAS_REMOVED, scope.principal, subject=name)


def alias_view(db: Session, name: str) -> AliasView:
    stmt = (
        select(ModelEndpoint.name, ModelAlias.priority)
        .join(ModelEndpoint, ModelEndpoint.id == ModelAlias.endpoint_id)
        .where(ModelAlias.name == name)
        .order_by(ModelAlias.priority, ModelEndpoint.name)
    )
    members = [AliasMember(endpoint=endpoint, priority=priority) for endpoint, priority in db.execute(stmt)]
    if not members:
        raise NotFound(f"別名「{name}」が見つかりません。")
    return AliasView(name=name, members=members)


def list_aliases(db: Session) -> list[AliasView]:
    names = db.scalars(select(ModelAlias.name).distinct().order_by(ModelAlias.name))
    return [alias_view(db, n) for n in list(names)]


# -- built-ins ---------------------------------------------------------------------------------
def ensure_builtin_endpoints(db: Session) -> bool:
    """Seed the embedded chat and embeddings endpoints once per database; True when it did.

    A marker records the seeding, so an administrator who removes them does not get them back.
    """
    if db.get(SystemState, BUILTIN_MARKER) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(SystemState(key=BUILTIN_MARKER, value="1"))
            db.flush()
    except IntegrityError:
        return False  # another process seeded concurrently
    for name, kind, description in (
        (BUILTIN_CHAT, "chat", "組み込みの小型モデル Qwen2.5-Coder-0.5B-Instruct（Q4_K_M, llama.cpp）。外部送信なし。"),
        (BUILTIN_EMBEDDINGS, "embeddings", "組み込みの埋め込みモデル multilingual-e5-small（4bit）。外部送信なし。"),
    ):
        if db.scalar(select(ModelEndpoint.id).where(ModelEndpoint.name == name)) is not None:
            continue
        row = ModelEndpoint(
            name=name,
            description=description,
            provider="embedded",
            kind=kind,
            context_window=4096 if kind == "chat" else 512,
            clearance=3,
            external=False,
            all_teams=True,
            timeout_seconds=300.0,
            tags=["embedded"],
        )
        db.add(row)
        db.flush()
        if kind == "chat":
            for alias in BUILTIN_ALIASES:
                if db.scalar(select(ModelAlias.name).where(ModelAlias.name == alias).limit(1)) is None:
                    db.add(ModelAlias(name=alias, endpoint_id=row.id, priority=0))
    db.flush()
    return True
