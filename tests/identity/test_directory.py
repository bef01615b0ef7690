from __future__ import annotations

import pytest

from hiraga.errors import Conflict, Forbidden, InvalidInput, NotFound
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

ROOT = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))
PASSWORD = "Correct-horse-42"


def test_organisation_team_user_membership_roundtrip(database: Database) -> None:
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "  総務省 ")
        team = directory.create_team(db, ROOT, org.id, "行政管理局")
        user = directory.create_user(db, ROOT, email="Taro@Example.JP", password=PASSWORD)
        directory.set_membership(db, ROOT, team.id, user.id, TeamRole.ADMIN)
    with database.session() as db:
        assert directory.find_organisation(db, "総務省").id == org.id
        assert directory.find_user_by_email(db, "taro@example.jp").email == "taro@example.jp"
        members = directory.list_members(db, ROOT, team.id)
        assert [(m.user_id, m.role) for m in members] == [(user.id, TeamRole.ADMIN)]


def test_duplicates_conflict_and_change_nothing(database: Database) -> None:
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "A市")
        directory.create_user(db, ROOT, email="a@example.jp", password=PASSWORD)
    with database.session() as db:
        with pytest.raises(Conflict):
            directory.create_organisation(db, ROOT, "A市")
        with pytest.raises(Conflict):
            directory.create_user(db, ROOT, email="A@example.jp", password=PASSWORD)
        directory.create_team(db, ROOT, org.id, "企画課")  # the session is still usable
    with database.session() as db:
        assert len(directory.list_organisations(db, ROOT)) == 1
        assert len(directory.list_users(db, ROOT)) == 1
        assert len(directory.list_teams(db, ROOT)) == 1


@pytest.mark.parametrize("password", ["short1!", "aaaaaaaaaaaaaaaa", "alllowercaseletters", "abcd-example-1234"])
def test_weak_passwords_are_refused(database: Database, password: str) -> None:
    with database.session() as db, pytest.raises(InvalidInput):
        directory.create_user(db, ROOT, email="example@example.jp", password=password)


def test_team_admin_sees_only_own_team(database: Database) -> None:
    with database.session() as db:
        org = directory.create_organisation(db, ROOT, "B県")
        mine = directory.create_team(db, ROOT, org.id, "情報政策課")
        other = directory.create_team(db, ROOT, org.id, "財政課")
        admin = directory.create_user(db, ROOT, email="admin@b.jp", password=PASSWORD)
        stranger = directory.create_user(db, ROOT, email="stranger@b.jp", password=PASSWORD)
        directory.set_membership(db, ROOT, mine.id, admin.id, TeamRole.ADMIN)
        directory.set_membership(db, ROOT, other.id, stranger.id, TeamRole.MEMBER)
    scope = AccessScope(
        Principal(user_id=admin.id, email=admin.email, display_name="", team_roles={mine.id: TeamRole.ADMIN})
    )
    with database.session() as db:
        assert [t.id for t in directory.list_teams(db, scope)] == [mine.id]
        assert {u.id for u in directory.list_users(db, scope)} == {admin.id}
        with pytest.raises(NotFound):
            directory.get_team(db, scope, other.id)
        with pytest.raises(NotFound):
            directory.set_membership(db, scope, other.id, admin.id, TeamRole.ADMIN)
        with pytest.raises(Forbidden):
            directory.create_team(db, scope, org.id, "新しい課")
        with pytest.raises(NotFound):  # another team's user cannot be pulled into one's own team
            directory.set_membership(db, scope, mine.id, stranger.id, TeamRole.MEMBER)
        with pytest.raises(InvalidInput):  # a team admin's new user must land in one of their teams
            directory.create_user(db, scope, email="orphan@b.jp", password=None)
        newcomer = directory.create_user(db, scope, email="new@b.jp", password=None, team_id=mine.id)
        assert {u.id for u in directory.list_users(db, scope)} == {admin.id, newcomer.id}
