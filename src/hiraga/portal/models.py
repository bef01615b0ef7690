"""The models a user may pick in the portal: the gateway's own list for that user, chat models
only. Built-in (embedded) models are marked, so the page can say they are small."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hiraga.errors import NotFound
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal

EMBEDDED_TAG = "embedded"
BUILTIN_NOTE = "組み込みの小型モデルです。回答の正確さには限界があるため、必ず内容を確認してください。"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    name: str
    description: str
    context_window: int | None
    clearance: int
    builtin: bool
    alias_of: tuple[str, ...] = ()


async def model_choices(gateway: Gateway, principal: Principal) -> list[ModelChoice]:
    listing = await gateway.models(principal)
    choices = []
    for card in listing.data:
        info = card.hiraga
        if info.get("kind") != "chat":
            continue
        choices.append(
            ModelChoice(
                name=card.id,
                description=str(info.get("description") or ""),
                context_window=info.get("context_window"),
                clearance=int(info.get("clearance") or 1),
                builtin=EMBEDDED_TAG in (info.get("tags") or []),
                alias_of=tuple(info.get("alias_of") or ()),
            )
        )
    return sorted(choices, key=lambda c: (c.name != "default", c.name))


def pick(choices: Sequence[ModelChoice], name: str) -> ModelChoice:
    for choice in choices:
        if choice.name == name:
            return choice
    raise NotFound(
        f"モデル「{name}」が見つからないか、利用が許可されていません。別のモデルを選んでください。",
        code="model_not_found",
        detail={"field": "model"},
    )


def default_model(choices: Sequence[ModelChoice]) -> str:
    if not choices:
        raise NotFound(
            "利用できるモデルがありません。管理者にモデルの登録を依頼してください。", code="no_model_available"
        )
    return choices[0].name
