"""The blind arena: opt-in per team. A user's real prompt is answered by two models cleared for the
prompt's 機密性 and usable by the team, shown as A and B; the user prefers one or calls a tie.
Bradley–Terry ratings (with bootstrap intervals) per task type; the preferences are listed for the
feedback datasets (``preference_pairs``)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import Conflict, Forbidden, InvalidInput, NotFound
from hiraga.evaluation.metrics import percentile
from hiraga.feedback_data import collect
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import ArenaBattle, PlatformSetting
from hiraga.store.tables.base import utcnow

WINNERS = ("a", "b", "tie")
_KEY = "arena.team.{team_id}"


def set_enabled(db: Session, scope: AccessScope, team_id: int, enabled: bool) -> None:
    scope.require_team_admin(team_id)
    key = _KEY.format(team_id=team_id)
    row = db.get(PlatformSetting, key)
    if row is None:
        db.add(PlatformSetting(key=key, value="on" if enabled else "off", updated_by=scope.principal.user_id))
    else:
        row.value, row.updated_by = ("on" if enabled else "off"), scope.principal.user_id
    db.commit()


def is_enabled(db: Session, team_id: int) -> bool:
    row = db.get(PlatformSetting, _KEY.format(team_id=team_id))
    return row is not None and row.value == "on"


def require_enabled(db: Session, scope: AccessScope, team_id: int) -> None:
    if team_id not in scope.principal.team_ids:
        raise NotFound("指定されたチームが見つかりません。")
    if not is_enabled(db, team_id):
        raise Forbidden("このチームではアリーナが有効になっていません。", code="arena_disabled")


def store_battle(
    db: Session,
    scope: AccessScope,
    *,
    team_id: int,
    task: str,
    classification: int,
    prompt: str,
    answers: Sequence[tuple[str, str]],
) -> ArenaBattle:
    """Two (model, answer) pairs in the order shown."""
    (model_a, answer_a), (model_b, answer_b) = answers
    battle = ArenaBattle(
        team_id=team_id,
        user_id=scope.principal.user_id,
        task=task[:32],
        classification=classification,
        prompt=prompt,
        model_a=model_a,
        model_b=model_b,
        answer_a=answer_a,
        answer_b=answer_b,
    )
    db.add(battle)
    db.commit()
    return battle


def find_battle(db: Session, scope: AccessScope, battle_id: int) -> ArenaBattle:
    battle = db.get(ArenaBattle, battle_id)
    if battle is None or battle.user_id != scope.principal.user_id:
        raise NotFound("対戦が見つかりません。", code="arena_battle_not_found")
    return battle


def vote(db: Session, scope: AccessScope, battle_id: int, winner: str) -> ArenaBattle:
    """The user's verdict, once; then the models are revealed. A preference (not a tie) also becomes
    a candidate item of the preference datasets where the team's policy and the user's consent allow
    it at the battle's 機密性 (scrubbed and reviewed like any other item), in the same transaction."""
    if winner not in WINNERS:
        raise InvalidInput("winner は a・b・tie のいずれかです。", detail={"field": "winner"})
    battle = find_battle(db, scope, battle_id)
    if battle.winner is not None:
        raise Conflict("この対戦には既に投票しています。", code="arena_already_voted")
    battle.winner, battle.voted_at = winner, utcnow()
    if winner != "tie" and battle.answer_a.strip() and battle.answer_b.strip():
        collect.record_preference(db, scope.principal, _preference(battle))
    db.commit()
    return battle


def _ordered(battle: ArenaBattle) -> tuple[str, str, str, str]:
    """A decided battle's (chosen, rejected, chosen model, rejected model)."""
    if battle.winner == "a":
        return battle.answer_a, battle.answer_b, battle.model_a, battle.model_b
    return battle.answer_b, battle.answer_a, battle.model_b, battle.model_a


def _preference(battle: ArenaBattle) -> collect.Preference:
    chosen, rejected, chosen_model, rejected_model = _ordered(battle)
    return collect.Preference(
        prompt=[{"role": "user", "content": battle.prompt}],  # the arena sends the prompt alone, no system prompt
        chosen=chosen,
        rejected=rejected,
        chosen_model=chosen_model,
        rejected_model=rejected_model,
        classification=battle.classification,
        answered_at=battle.created_at,
        team_id=battle.team_id,
    )


@dataclass(frozen=True, slots=True)
class Rating:
    model: str
    rating: float
    low: float
    high: float
    battles: int


Outcome = tuple[str, str, float]  # (model a, model b, a's result: 1 win, 0.5 tie, 0 loss)


def outcomes(db: Session, task: str | None = None) -> list[Outcome]:
    query = select(ArenaBattle.model_a, ArenaBattle.model_b, ArenaBattle.winner).where(ArenaBattle.winner.is_not(None))
    if task is not None:
        query = query.where(ArenaBattle.task == task)
    points = {"a": 1.0, "b": 0.0, "tie": 0.5}
    return [(a, b, points[str(w)]) for a, b, w in db.execute(query.order_by(ArenaBattle.id))]


def bradley_terry(games: Sequence[Outcome], iterations: int = 200) -> dict[str, float]:
    """Strengths by the MM algorithm (ties count half a win to each side), as Elo-like ratings
    (400·log10, centred on 1000)."""
    models = sorted({m for a, b, _ in games for m in (a, b)})
    wins: dict[str, float] = defaultdict(float)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for a, b, result in games:
        wins[a] += result
        wins[b] += 1.0 - result
        pairs[(a, b)] += 1
        pairs[(b, a)] += 1
    strength = dict.fromkeys(models, 1.0)
    for _ in range(iterations):
        updated = {}
        for m in models:
            denominator = sum(n / (strength[m] + strength[o]) for (x, o), n in pairs.items() if x == m)
            updated[m] = max(wins[m], 0.01) / denominator if denominator else strength[m]
        centre = math.exp(sum(math.log(v) for v in updated.values()) / len(updated)) if updated else 1.0
        strength = {m: v / centre for m, v in updated.items()}
    return {m: 1000 + 400 * math.log10(v) for m, v in strength.items()}


def ratings(games: Sequence[Outcome], *, resamples: int = 100, seed: int = 0) -> list[Rating]:
    """Ratings with 95 % bootstrap intervals (battles resampled with replacement)."""
    point = bradley_terry(games)
    rng = random.Random(seed)
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(resamples if len(games) > 1 else 0):
        for model, value in bradley_terry(rng.choices(games, k=len(games)), iterations=50).items():
            samples[model].append(value)
    counts: dict[str, int] = defaultdict(int)
    for a, b, _ in games:
        counts[a] += 1
        counts[b] += 1
    found = [
        Rating(
            m,
            r,
            percentile(samples[m], 0.025) if samples[m] else r,
            percentile(samples[m], 0.975) if samples[m] else r,
            counts[m],
        )
        for m, r in point.items()
    ]
    return sorted(found, key=lambda r: -r.rating)


@dataclass(frozen=True, slots=True)
class PreferencePair:
    """One arena preference for the feedback datasets: the prompt, the preferred and the other answer,
    and the models that gave them (ties are not pairs)."""

    battle_id: int
    team_id: int
    task: str
    classification: int
    prompt: str
    chosen: str
    rejected: str
    chosen_model: str
    rejected_model: str


def preference_pairs(
    db: Session, *, team_ids: Sequence[int] | None = None, task: str | None = None
) -> list[PreferencePair]:
    """Every decided arena battle as a (prompt, chosen, rejected, models) pair, oldest first."""
    query = select(ArenaBattle).where(ArenaBattle.winner.in_(("a", "b")))
    if team_ids is not None:
        query = query.where(ArenaBattle.team_id.in_(list(team_ids)))
    if task is not None:
        query = query.where(ArenaBattle.task == task)
    pairs = []
    for battle in db.scalars(query.order_by(ArenaBattle.id)):
        pairs.append(
            PreferencePair(
                battle.id, battle.team_id, battle.task, battle.classification, battle.prompt, *_ordered(battle)
            )
        )
    return pairs
