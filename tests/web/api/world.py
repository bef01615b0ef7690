"""A small platform for API tests: two organisations, one team in each, and one user per role.

``own`` is organisation A / team 企画課; ``other`` is organisation B / team 財政課. Users have no
password (no hashing cost); they call with personal API keys or with a browser session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hiraga.identity import api_keys, directory, web_sessions
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import ApiKey, Base, Membership, TeamRole, User
from hiraga.web import csrf

ROOT = AccessScope(Principal(user_id=0, email="root@localhost", display_name="root", is_system_admin=True))
ROLES = ("anonymous", "member", "team_admin", "auditor", "system_admin")
CSRF_NONCE = "fixed-test-nonce"


@dataclass
class Actor:
    user_id: int
    key: str  # the bearer secret the actor calls with
    spare_key_id: int  # another key of theirs, to list and revoke


@dataclass
class World:
    secret: str
    organisation: dict[str, int]  # target ("own"/"other") -> id
    team: dict[str, int]
    colleague: int  # a plain member of the own team, not one of the actors
    stranger: Actor  # a plain member of the other team
    actors: dict[str, Actor] = field(default_factory=dict)
    memberships: list[tuple[int, int, TeamRole]] = field(default_factory=list)
    flags: dict[int, tuple[bool, bool]] = field(default_factory=dict)  # user -> (system admin, auditor)

    def headers(self, role: str) -> dict[str, str]:
        """API-key headers for a role; the anonymous caller carries a valid CSRF pair and nothing else."""
        if role == "anonymous":
            return self.csrf_headers()
        return {"authorization": f"Bearer {self.actors[role].key}"}

    def csrf_headers(self, session_token: str | None = None) -> dict[str, str]:
        cookie = f"{csrf.COOKIE}={CSRF_NONCE}"
        if session_token:
            cookie += f"; hiraga_session={session_token}"
        return {"cookie": cookie, "x-csrf-token": csrf.token_for(self.secret, CSRF_NONCE)}

    def session_for(self, database: Database, role: str) -> str:
        with database.session() as db:
            return web_sessions.start_session(db, self.actors[role].user_id, ttl_hours=1)

    def restore(self, database: Database) -> None:
        """Undo what an allowed request changed: memberships, platform roles, revocations."""
        with database.session() as db:
            for user_id, team_id, role in self.memberships:
                row = db.get(Membership, (user_id, team_id))
                if row is None:
                    db.add(Membership(user_id=user_id, team_id=team_id, role=role))
                else:
                    row.role = role
            for user_id, (is_admin, is_auditor) in self.flags.items():
                user = db.get(User, user_id)
                assert user is not None
                user.is_system_admin, user.is_auditor, user.is_active = is_admin, is_auditor, True
            db.execute(sa.update(ApiKey).where(ApiKey.user_id.in_(self.flags)).values(revoked_at=None))


def _actor(db: Any, email: str, **flags: bool) -> Actor:
    user = directory.create_user(db, ROOT, email=email, password=None, **flags)
    key = api_keys.issue_key(db, ROOT.principal, user.id, "main", 30)
    spare = api_keys.issue_key(db, ROOT.principal, user.id, "spare", 30)
    return Actor(user_id=user.id, key=key.secret, spare_key_id=spare.row.id)


def build_world(database: Database, secret: str) -> World:
    with database.session() as db:
        org_a = directory.create_organisation(db, ROOT, "A市")
        org_b = directory.create_organisation(db, ROOT, "B県")
        own = directory.create_team(db, ROOT, org_a.id, "企画課")
        other = directory.create_team(db, ROOT, org_b.id, "財政課")
        colleague = directory.create_user(db, ROOT, email="colleague@a.example.jp", password=None)
        world = World(
            secret=secret,
            organisation={"own": org_a.id, "other": org_b.id},
            team={"own": own.id, "other": other.id},
            colleague=colleague.id,
            stranger=_actor(db, "stranger@b.example.jp"),
        )
        world.actors = {
            "member": _actor(db, "member@a.example.jp"),
            "team_admin": _actor(db, "admin@a.example.jp"),
            "auditor": _actor(db, "auditor@example.jp", is_auditor=True),
            "system_admin": _actor(db, "root@example.jp", is_system_admin=True),
        }
        world.memberships = [
            (world.actors["member"].user_id, own.id, TeamRole.MEMBER),
            (world.actors["team_admin"].user_id, own.id, TeamRole.ADMIN),
            (colleague.id, own.id, TeamRole.MEMBER),
            (world.stranger.user_id, other.id, TeamRole.MEMBER),
        ]
        for user_id, team_id, role in world.memberships:
            directory.set_membership(db, ROOT, team_id, user_id, role)
        people = [colleague.id, world.stranger.user_id, *(a.user_id for a in world.actors.values())]
        world.flags = {
            u.id: (u.is_system_admin, u.is_auditor) for u in db.scalars(sa.select(User).where(User.id.in_(people)))
        }
    return world


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every identity row (minus last-use times), to prove that a refused request changed nothing."""
    tables = ("organisations", "teams", "users", "memberships", "api_keys", "web_sessions")
    result: dict[str, list[tuple[Any, ...]]] = {}
    with database.engine.connect() as connection:
        for name in tables:
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if c.name != "last_used_at"]
            rows = connection.execute(sa.select(*columns)).all()
            result[name] = sorted(tuple(r) for r in rows)
    return result
