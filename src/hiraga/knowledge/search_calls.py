"""Model calls made for a knowledge-base search (query expansion, reranking): who they are for and
how they enter the spine — as the caller, charged to their team, at the highest of the level the
user chose and the knowledge base's 機密性, with the knowledge base named as what they draw on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hiraga.gateway.service import input_estimate
from hiraga.identity.principal import Principal
from hiraga.spine.call import ModelCall
from hiraga.spine.classification import effective_classification


@dataclass(frozen=True, slots=True)
class SearchCallTarget:
    """Where the search runs: the knowledge base and its level, the caller's team, the model."""

    knowledge_base_id: int
    knowledge_base_level: int
    team_id: int | None
    model: str = "default"
    classification: int | None = None  # the level the user chose


def search_call(
    principal: Principal, target: SearchCallTarget, body: dict[str, Any], *, kind: str, purpose: str
) -> ModelCall:
    """The ModelCall for ``body``; its usage source is ``<purpose>:<knowledge base id>``."""
    call = ModelCall(
        principal=principal,
        kind=kind,
        requested_model=target.model,
        classification=effective_classification(target.classification, target.knowledge_base_level),
        team_id=target.team_id,
        estimated_input_tokens=input_estimate(body),
        max_output_tokens=int(body.get("max_tokens") or 0),
        source=f"{purpose}:{target.knowledge_base_id}",
    )
    call.draw_on(f"kb:{target.knowledge_base_id}", target.knowledge_base_level)
    return call
