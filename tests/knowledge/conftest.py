"""A small world for knowledge-base tests: one organisation, two teams, and principals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hiraga.identity.principal import Principal
from hiraga.knowledge import service
from hiraga.knowledge.jobs import IngestWorker
from hiraga.knowledge.runtime import KnowledgeRuntime, SearchHit
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import Organisation, Team, TeamRole


@dataclass
class World:
    database: Database
    runtime: KnowledgeRuntime
    team_a: int
    team_b: int
    organisation: int

    def scope(self, role: str) -> AccessScope:
        roles = {
            "admin_a": {self.team_a: TeamRole.ADMIN},
            "member_a": {self.team_a: TeamRole.MEMBER},
            "member_b": {self.team_b: TeamRole.MEMBER},
        }
        if role == "system":
            return AccessScope(Principal(1, "root@example.jp", "root", is_system_admin=True))
        return AccessScope(Principal(2, f"{role}@example.jp", role, team_roles=roles[role]))

    def ingest(self) -> int:
        return IngestWorker(self.runtime).run_pending()

    def add(self, kb_id: int, filename: str, data: bytes, **kwargs: object) -> service.Submission:
        with self.database.session() as db:
            kb = service.get_knowledge_base(db, self.scope("admin_a"), kb_id)
            return service.submit_document(db, self.scope("admin_a"), kb, filename=filename, data=data, **kwargs)  # type: ignore[arg-type]

    def search(self, kb_id: int, query: str, role: str = "member_a", **kwargs: object) -> list[SearchHit]:
        with self.database.session() as db:
            kb = service.get_knowledge_base(db, self.scope(role), kb_id)
            return service.search(db, self.scope(role), kb, self.runtime, query, **kwargs)  # type: ignore[arg-type]

    def team_kb(self, name: str = "規程集") -> int:
        with self.database.session() as db:
            return service.create_knowledge_base(
                db, self.scope("admin_a"), name=name, team_id=self.team_a, classification=2
            ).id


def make_world(database: Database, data_dir: Path, with_embedder: bool = False) -> World:
    with database.session() as db:
        org = Organisation(name="A市")
        db.add(org)
        db.flush()
        team_a, team_b = Team(organisation_id=org.id, name="総務課"), Team(organisation_id=org.id, name="税務課")
        db.add_all([team_a, team_b])
        db.flush()
        ids = (team_a.id, team_b.id, org.id)
    runtime = KnowledgeRuntime(database, data_dir, embedder=None if with_embedder else (lambda: None))
    return World(database, runtime, *ids)


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    yield make_world(database, tmp_path / "data")
