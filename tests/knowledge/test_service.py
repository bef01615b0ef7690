"""Knowledge-base service on SQLite and PostgreSQL: visibility, ingestion outcomes, search."""

from __future__ import annotations

import pytest

from hiraga.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from hiraga.knowledge import service
from hiraga.store.tables import KbDocument
from hiraga.store.tables.knowledge import DocumentStatus

from .conftest import World

GUIDE = (
    "# 窓口案内\n\n住民票の写しは市民課の窓口で交付します。\n\n## 税\n\n市県民税の申告期限は三月十五日です。\n".encode()
)
RULES = "# 服務規程\n\n職員は勤務時間中に私用の電話をしてはならない。\n".encode()


def test_members_search_and_only_their_team_sees_the_knowledge_base(world: World) -> None:
    kb_id = world.team_kb()
    with world.database.session() as db:
        assert [k.id for k in service.list_knowledge_bases(db, world.scope("member_a"))] == [kb_id]
        assert service.list_knowledge_bases(db, world.scope("member_b")) == []
        with pytest.raises(NotFound):
            service.get_knowledge_base(db, world.scope("member_b"), kb_id)


def test_only_team_admins_manage_and_org_wide_needs_a_system_admin(world: World) -> None:
    with world.database.session() as db:
        with pytest.raises(Forbidden):
            service.create_knowledge_base(db, world.scope("member_a"), name="x", team_id=world.team_a, classification=1)
        with pytest.raises(NotFound):  # another team's id looks missing
            service.create_knowledge_base(db, world.scope("admin_a"), name="x", team_id=world.team_b, classification=1)
        with pytest.raises(Forbidden):
            service.create_knowledge_base(
                db,
                world.scope("admin_a"),
                name="全庁",
                team_id=None,
                organisation_id=world.organisation,
                classification=1,
            )
        org_wide = service.create_knowledge_base(
            db, world.scope("system"), name="全庁", team_id=None, organisation_id=world.organisation, classification=1
        )
        # members of any team of the organisation read an organisation-wide knowledge base
        assert org_wide.id in [k.id for k in service.list_knowledge_bases(db, world.scope("member_b"))]
    kb_id = world.team_kb()
    with world.database.session() as db:
        kb = service.get_knowledge_base(db, world.scope("member_a"), kb_id)
        with pytest.raises(Forbidden):
            service.submit_document(db, world.scope("member_a"), kb, filename="a.md", data=GUIDE)


@pytest.mark.parametrize("classification", [0, 4])
def test_classification_out_of_range_is_rejected(world: World, classification: int) -> None:
    with world.database.session() as db, pytest.raises(InvalidInput):
        service.create_knowledge_base(
            db, world.scope("admin_a"), name="x", team_id=world.team_a, classification=classification
        )


def test_duplicate_name_in_the_organisation_conflicts(world: World) -> None:
    world.team_kb("同名")
    with pytest.raises(Conflict):
        world.team_kb("同名")


def test_a_document_is_searchable_only_after_its_job_and_cites_its_place(world: World) -> None:
    kb_id = world.team_kb()
    assert world.add(kb_id, "guide.md", GUIDE).outcome == "queued"
    assert world.search(kb_id, "住民票の写し") == []  # queued, not yet indexed
    assert world.ingest() == 1
    hits = world.search(kb_id, "住民票の写しはどこで交付？")
    assert hits[0].document_name == "guide.md"
    assert hits[0].text == "住民票の写しは市民課の窓口で交付します。"
    assert hits[0].heading_path == ("窓口案内",)
    assert world.search(kb_id, "申告期限")[0].heading_path == ("窓口案内", "税")


def test_identical_content_is_stored_once_and_unchanged_files_are_skipped(world: World) -> None:
    kb_id = world.team_kb()
    first = world.add(kb_id, "guide.md", GUIDE)
    assert world.add(kb_id, "copy-of-guide.md", GUIDE).outcome == "duplicate"
    assert world.add(kb_id, "guide.md", GUIDE).outcome == "unchanged"
    world.ingest()
    with world.database.session() as db:
        assert [d.id for d in db.query(KbDocument).all()] == [first.document.id]


def test_reingesting_a_changed_file_replaces_its_chunks(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE)
    world.ingest()
    world.add(kb_id, "guide.md", RULES)
    assert world.search(kb_id, "住民票")  # old version stays searchable until the new one is indexed
    world.ingest()
    assert world.search(kb_id, "住民票") == []
    assert world.search(kb_id, "私用の電話")[0].document_name == "guide.md"


def test_deleting_a_document_removes_its_chunks_from_search(world: World) -> None:
    kb_id = world.team_kb()
    submission = world.add(kb_id, "guide.md", GUIDE)
    world.ingest()
    with world.database.session() as db:
        kb = service.get_knowledge_base(db, world.scope("admin_a"), kb_id)
        service.delete_document(db, world.scope("admin_a"), kb, submission.document.id)
    assert world.search(kb_id, "住民票") == []


def test_one_bad_file_fails_alone_with_a_japanese_reason(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "broken.xml", b"<Law><LawBody>")
    world.add(kb_id, "guide.md", GUIDE)
    assert world.ingest() == 2
    with world.database.session() as db:
        documents = {d.name: d for d in db.query(KbDocument).all()}
    assert documents["guide.md"].status is DocumentStatus.READY
    broken = documents["broken.xml"]
    assert broken.status is DocumentStatus.FAILED and broken.error_code == "malformed_xml"
    assert "XML の形式が正しくない" in (broken.error_message or "")
    assert world.search(kb_id, "住民票")[0].document_name == "guide.md"


def test_oversized_files_are_refused_before_storing_anything(world: World) -> None:
    kb_id = world.team_kb()
    with world.database.session() as db:
        kb = service.get_knowledge_base(db, world.scope("admin_a"), kb_id)
        with pytest.raises(PayloadTooLarge):
            service.submit_document(
                db, world.scope("admin_a"), kb, filename="big.txt", data=b"a" * 2048, max_bytes=1024
            )
        assert db.query(KbDocument).count() == 0


def test_tag_and_document_filters_narrow_the_search(world: World) -> None:
    kb_id = world.team_kb()
    world.add(kb_id, "guide.md", GUIDE, tags=["窓口"])
    world.add(kb_id, "rules.md", "# 窓口当番\n\n窓口の当番は毎週交代します。\n".encode(), tags=["人事"])
    world.ingest()
    assert {h.document_name for h in world.search(kb_id, "窓口")} == {"guide.md", "rules.md"}
    assert {h.document_name for h in world.search(kb_id, "窓口", tags=["人事"])} == {"rules.md"}
    assert {h.document_name for h in world.search(kb_id, "窓口", document_names=["guide.md"])} == {"guide.md"}


def test_search_input_is_validated(world: World) -> None:
    kb_id = world.team_kb()
    with pytest.raises(InvalidInput):
        world.search(kb_id, "x", top_k=0)
    with pytest.raises(InvalidInput):
        world.search(kb_id, "長" * 2001)
    assert world.search(kb_id, "   ") == []
