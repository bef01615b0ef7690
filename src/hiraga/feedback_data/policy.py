"""Consent: each team's policy (training use off by default; which 機密性 levels may leave, by default
only 機密性1) and each user's opt-out, which also withdraws what they gave before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import InvalidInput, NotFound
from hiraga.identity.principal import Principal
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import DatasetItem, DatasetOptOut, DatasetPolicy, Team

LEVELS = (1, 2, 3)
MAX_LICENCE = 200


@dataclass(frozen=True, slots=True)
class Policy:
    team_id: int
    training_use: bool = False
    max_classification: int = 1
    licence: str = ""

    def allows(self, classification: int) -> bool:
        return self.training_use and classification <= self.max_classification

    def describe(self) -> str:
        """The policy in plain Japanese, for the text next to the 👍/👎 buttons and the dataset card."""
        if not self.training_use:
            return "このチームでは、評価をモデルの学習に使いません（管理者が有効にするまで）。"
        levels = "・".join(f"機密性{n}" for n in LEVELS if n <= self.max_classification)
        return (
            f"このチームでは、{levels}の会話と業務アプリの出力への評価を、個人情報を置き換えてチーム管理者が確認した後に、"
            "国産モデルの改善のための学習データとして提供することがあります。アカウント画面でいつでも"
            "提供を止められ、止めると過去の評価も提供されません。"
        )


def policy_of(db: Session, team_id: int) -> Policy:
    row = db.get(DatasetPolicy, team_id)
    if row is None:
        return Policy(team_id)
    return Policy(team_id, row.training_use, row.max_classification, row.licence)


def visible_policy(db: Session, scope: AccessScope, team_id: int) -> Policy:
    """A team's policy for its members (and auditors and system admins); other teams do not exist."""
    if db.get(Team, team_id) is None or not scope.can_see_team(team_id):
        raise NotFound("指定されたチームが見つかりません。")
    return policy_of(db, team_id)


def set_policy(
    db: Session, scope: AccessScope, team_id: int, training_use: bool, max_classification: int = 1, licence: str = ""
) -> Policy:
    if db.get(Team, team_id) is None:
        raise NotFound("指定されたチームが見つかりません。", detail={"field": "team_id"})
    scope.require_team_admin(team_id)
    if max_classification not in LEVELS:
        raise InvalidInput(
            "提供してよい機密性は 1〜3 で指定してください。",
            code="invalid_dataset_policy",
            detail={"field": "max_classification"},
        )
    licence = check_characters(licence.strip(), "licence")
    if len(licence) > MAX_LICENCE:
        raise InvalidInput(
            f"ライセンスは {MAX_LICENCE} 文字以内で入力してください。",
            code="invalid_dataset_policy",
            detail={"field": "licence"},
        )
    row = db.get(DatasetPolicy, team_id)
    if row is None:
        row = DatasetPolicy(team_id=team_id)
        db.add(row)
    row.training_use, row.max_classification, row.licence = training_use, max_classification, licence
    row.updated_by = scope.principal.user_id or None
    db.flush()
    detail = {"training_use": training_use, "max_classification": max_classification, "licence": licence}
    events.record(db, events.DATASET_POLICY_SET, scope.principal, team_id=team_id, detail=detail)
    return policy_of(db, team_id)


def opted_out(db: Session, user_id: int) -> bool:
    return db.get(DatasetOptOut, user_id) is not None


def set_opt_out(db: Session, principal: Principal, opt_out: bool) -> int:
    """Opt the caller out (withdrawing all their items, also approved ones) or back in (for new
    feedback only). Returns how many items were withdrawn."""
    row = db.get(DatasetOptOut, principal.user_id)
    withdrawn = 0
    if opt_out and row is None:
        db.add(DatasetOptOut(user_id=principal.user_id))
        withdrawn = withdraw_all_of(db, principal.user_id)
    elif not opt_out and row is not None:
        db.delete(row)
    else:
        return 0
    db.flush()
    detail = {"opted_out": opt_out, "items_withdrawn": withdrawn}
    events.record(db, events.DATASET_OPT_OUT_SET, principal, subject=principal.email, detail=detail)
    return withdrawn


def withdraw_all_of(db: Session, user_id: int, team_id: int | None = None) -> int:
    """Withdraw a user's items (of one team, or all of them)."""
    query = update(DatasetItem).where(DatasetItem.user_id == user_id, DatasetItem.status != "withdrawn")
    if team_id is not None:
        query = query.where(DatasetItem.team_id == team_id)
    result = db.execute(query.values(status="withdrawn", withdrawn_at=datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)


def team_for(db: Session, principal: Principal, classification: int, preferred: int | None = None) -> int | None:
    """The team whose policy takes this user's feedback: ``preferred`` (the bot's or app's team)
    when the user belongs to it, else the user's teams in id order; the first that allows it."""
    if opted_out(db, principal.user_id):
        return None
    teams = sorted(principal.team_ids)
    if preferred in principal.team_ids:
        teams = [preferred, *(t for t in teams if t != preferred)]
    rows = {r.team_id: r for r in db.scalars(select(DatasetPolicy).where(DatasetPolicy.team_id.in_(teams)))}
    for team_id in teams:
        row = rows.get(team_id)
        if row is not None and row.training_use and classification <= row.max_classification:
            return team_id
    return None


def notice_for(db: Session, principal: Principal, classification: int, preferred: int | None = None) -> str:
    """What the user is told next to the 👍/👎 buttons: whether this feedback may become training data."""
    if opted_out(db, principal.user_id):
        return "あなたは評価の学習データへの提供を止めています。評価はこの画面の改善にだけ使われます。"
    team_id = team_for(db, principal, classification, preferred)
    if team_id is None:
        return "この評価は、モデルの学習には使いません。"
    return policy_of(db, team_id).describe()
