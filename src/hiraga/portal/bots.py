"""Bots: saved system prompts a team admin shares with their team. Members pick one when they
start a conversation; a bot of another team does not exist for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput, NotFound
from hiraga.identity.principal import Principal
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import Bot, Team

MAX_PROMPT = 8000


def _text(raw: str, field: str, label: str, limit: int) -> str:
    value = check_characters(raw.strip(), field)
    if not value or len(value) > limit:
        raise InvalidInput(
            f"{label}を 1〜{limit:,} 文字で入力してください。", code="invalid_bot", detail={"field": field}
        )
    return value


def create(db: Session, scope: AccessScope, team_id: int, name: str, system_prompt: str, description: str = "") -> Bot:
    if db.get(Team, team_id) is None:
        raise NotFound("指定されたチームが見つかりません。", detail={"field": "team_id"})
    scope.require_team_admin(team_id)
    row = Bot(
        team_id=team_id,
        name=_text(name, "name", "ボットの名前", 200),
        system_prompt=_text(system_prompt, "system_prompt", "システムプロンプト", MAX_PROMPT),
        description=description.strip()[:1000],
        created_by=scope.principal.user_id,
    )
    db.add(row)
    db.flush()
    return row


def list_usable(db: Session, principal: Principal) -> list[Bot]:
    query = select(Bot).order_by(Bot.name, Bot.id)
    if not principal.is_system_admin:
        query = query.where(Bot.team_id.in_(principal.team_ids))
    return list(db.scalars(query))


def remove(db: Session, scope: AccessScope, bot_id: int) -> None:
    row = db.get(Bot, bot_id)
    if row is None or not (scope.principal.is_system_admin or row.team_id in scope.principal.team_ids):
        raise NotFound("指定されたボットが見つかりません。", code="bot_not_found")
    scope.require_team_admin(row.team_id)
    db.delete(row)
    db.flush()
