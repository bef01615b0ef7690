"""A small organisation for the dataset tests: team A (alice, a member; carol, its admin) and team B
(bob, a member; dave, its admin); conversations written straight into the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from hiraga.cli.common import CLI_OPERATOR
from hiraga.feedback_data import policy
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import Conversation, Feedback, Message, TeamRole

ROOT = AccessScope(CLI_OPERATOR)
NAME, PHONE, EMAIL = "山田太郎", "03-1234-5678", "taro.yamada@example.jp"
QUESTION = f"{NAME}さん（電話 {PHONE}、{EMAIL}）への回答文を作ってください。"
ANSWER = f"{NAME}様、お問い合わせありがとうございます。{PHONE} までご連絡ください。"
PII_VALUES = (NAME, PHONE, EMAIL)


@dataclass
class People:
    team_a: int
    team_b: int
    alice: Principal
    carol: Principal
    bob: Principal
    dave: Principal


def make_people(database: Database) -> People:
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "デジタル庁")
        teams = [directory.create_team(db, ROOT, org.id, name).id for name in ("A課", "B室")]
        people = []
        for name, team, role in (
            ("alice", teams[0], TeamRole.MEMBER),
            ("carol", teams[0], TeamRole.ADMIN),
            ("bob", teams[1], TeamRole.MEMBER),
            ("dave", teams[1], TeamRole.ADMIN),
        ):
            email = f"{name}@example.jp"
            user = directory.create_user(db, ROOT, email=email, password=None)
            directory.set_membership(db, ROOT, team, user.id, role)
            people.append(Principal(user_id=user.id, email=email, display_name=name, team_roles={team: role}))
        return People(teams[0], teams[1], *people)


def allow(db: Session, team_id: int, max_classification: int = 1, licence: str = "CC-BY-4.0") -> None:
    policy.set_policy(db, ROOT, team_id, True, max_classification, licence)


def chat_reply(
    db: Session,
    user: Principal,
    question: str = QUESTION,
    answer: str = ANSWER,
    classification: int = 1,
    model_name: str = "llm-jp-4",
) -> tuple[Conversation, Message]:
    conversation = Conversation(
        user_id=user.user_id, title="問い合わせ", model="default", classification=classification
    )
    db.add(conversation)
    db.flush()
    asked = Message(conversation_id=conversation.id, position=0, role="user", content=question)
    reply = Message(
        conversation_id=conversation.id,
        position=1,
        role="assistant",
        content=answer,
        model_name=model_name,
        created_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    db.add_all([asked, reply])
    db.flush()
    db.refresh(conversation)
    return conversation, reply


def rate(
    db: Session, user: Principal, rating: str = "good", corrected: str = "", comment: str = "", **kw: object
) -> int:
    """A reply and the user's feedback on it through the portal's feedback service; the message id."""
    from hiraga.portal import feedback

    conversation, reply = chat_reply(db, user, **kw)  # type: ignore[arg-type]
    row: Feedback = feedback.give(db, user, conversation.id, reply.id, rating, comment, corrected)
    return row.message_id
