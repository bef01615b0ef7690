"""Private test sets: streamed JSONL/CSV upload, every bad input refused with the line named and
nothing stored, the team boundary (another team's set is a 404), and the scorers on hand-checked
examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gateway_world import World
from sqlalchemy import func, select

from hiraga.errors import HiragaError, NotFound
from hiraga.evaluation import private_sets
from hiraga.evaluation.scorers import score_in_code
from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import EvalSet, EvalSetItem, TeamRole

from .conftest import OPERATOR


def jsonl(*rows: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def pieces(data: bytes, size: int = 7) -> Iterator[bytes]:
    """Small chunks that cut multi-byte characters and lines, as a network upload would."""
    return (data[i : i + size] for i in range(0, len(data), size))


def upload(database: Database, team_id: int, data: bytes, kind: str = "jsonl", max_items: int = 100) -> EvalSet:
    with database.session() as db:
        return private_sets.upload_set(
            db,
            OPERATOR,
            team_id=team_id,
            name="窓口FAQ",
            classification=2,
            chunks=pieces(data),
            kind=kind,
            max_items=max_items,
        )


def stored(database: Database) -> tuple[int, int]:
    with database.session() as db:
        return (
            int(db.scalar(select(func.count()).select_from(EvalSet)) or 0),
            int(db.scalar(select(func.count()).select_from(EvalSetItem)) or 0),
        )


def test_jsonl_and_csv_uploads_are_read_in_pieces(database: Database, world: World) -> None:
    created = upload(
        database,
        world.team_a,
        "\ufeff".encode() + jsonl(
            {"id": "a", "prompt": "転入届の期限は？", "reference": "14日以内", "scorer": "contains"},
            {"prompt": "形式", "scorer": "regex", "pattern": r"\d+日"},
        ),
    )  # fmt: skip
    assert created.item_count == 2 and created.classification == 2
    csv_data = 'id,prompt,reference,scorer\nx1,首都は？,東京,exact\nx2,"改行\nを含む",答え,chrf\n'.encode()
    with database.session() as db:
        second = private_sets.upload_set(
            db, OPERATOR, team_id=world.team_a, name="CSV", classification=1, chunks=pieces(csv_data), kind="csv",
            max_items=10,
        )  # fmt: skip
        items = db.scalars(select(EvalSetItem).where(EvalSetItem.set_id == second.id).order_by(EvalSetItem.ordinal))
        assert [(i.item_id, i.prompt, i.scorer) for i in items] == [
            ("x1", "首都は？", "exact"),
            ("x2", "改行\nを含む", "chrf"),
        ]


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b'{"prompt": "a", "scorer": "exact", "reference": "b"}\n{broken', "eval_set_malformed", 2),
        (jsonl({"prompt": "a", "scorer": "bleu", "reference": "b"}), "eval_unknown_scorer", 1),
        (jsonl({"id": "1", "prompt": "a", "scorer": "contains", "reference": "b"}) * 1, None, None),
        (jsonl({"prompt": "a", "scorer": "regex", "pattern": "("}), "invalid_input", 1),
        (jsonl({"prompt": "a", "scorer": "exact"}), "invalid_input", 1),
        (jsonl({"prompt": "a", "scorer": "judge"}), "invalid_input", 1),
        (jsonl({"prompt": "a\u0000", "scorer": "judge", "rubric": "r"}), "eval_set_malformed", 1),
        (b"\xff\xfe", "eval_set_encoding", None),
        (b"", "eval_set_empty", None),
    ],
)
def test_bad_input_is_refused_with_its_line_and_stores_nothing(
    database: Database, world: World, data: bytes, code: str | None, line: int | None
) -> None:
    if code is None:
        upload(database, world.team_a, data)
        return
    with pytest.raises(HiragaError) as refused:
        upload(database, world.team_a, data)
    assert refused.value.code == code and refused.value.status in (400, 413)
    if line is not None:
        assert refused.value.detail["line"] == line and f"{line} 行目" in refused.value.message
    assert stored(database) == (0, 0)


def test_duplicate_ids_and_too_many_items_store_nothing(database: Database, world: World) -> None:
    row = {"id": "same", "prompt": "a", "scorer": "contains", "reference": "b"}
    with pytest.raises(HiragaError) as duplicate:
        upload(database, world.team_a, jsonl(row, {**row, "prompt": "c"}))
    assert duplicate.value.code == "eval_set_duplicate_id" and duplicate.value.detail["line"] == 2
    many = jsonl(*({"prompt": f"q{i}", "scorer": "contains", "reference": "r"} for i in range(2500)))
    with pytest.raises(HiragaError) as large:
        upload(database, world.team_a, many, max_items=2000)
    assert large.value.code == "eval_set_too_large" and large.value.status == 413
    assert stored(database) == (0, 0)


def test_another_teams_set_is_not_found_and_members_cannot_upload(database: Database, world: World) -> None:
    created = upload(database, world.team_a, jsonl({"prompt": "a", "scorer": "contains", "reference": "b"}))
    with database.session() as db:
        bob = directory.find_user_by_email(db, "bob@example.jp")
        alice = directory.find_user_by_email(db, "alice@example.jp")
        outsider = AccessScope(Principal(bob.id, bob.email, "bob", team_roles={world.team_b: TeamRole.MEMBER}))
        member = AccessScope(Principal(alice.id, alice.email, "alice", team_roles={world.team_a: TeamRole.MEMBER}))
        with pytest.raises(NotFound):
            private_sets.find_set(db, outsider, created.id)
        assert private_sets.visible_sets(db, outsider) == []
        assert [s.id for s in private_sets.visible_sets(db, member)] == [created.id]
        with pytest.raises(HiragaError) as refused:
            private_sets.upload_set(
                db, member, team_id=world.team_a, name="x", classification=1, chunks=iter([b""]), kind="jsonl",
                max_items=10,
            )  # fmt: skip
        assert refused.value.status == 403


@pytest.mark.parametrize(
    ("scorer", "output", "reference", "arg", "expected"),
    [
        ("exact", "１４日以内。", "14日以内", "", 1.0),
        ("exact", "14日", "14日以内", "", 0.0),
        ("contains", "期限は14日以内です", "１４日以内", "", 1.0),
        ("regex", "期限は14日", None, r"\d+日", 1.0),
        ("regex", "期限は二週間", None, r"\d+日", 0.0),
        ("chrf", "転入届は14日以内", "転入届は14日以内", "", 1.0),
        ("numbers-faithful", "令和7年に3万円", "令和七年四月に金三万円を", "", 1.0),
        ("numbers-faithful", "令和8年に3万円", "令和七年四月に金三万円を", "", 0.5),
    ],
)
def test_code_scorers_on_hand_checked_examples(
    scorer: str, output: str, reference: str | None, arg: str, expected: float
) -> None:
    assert score_in_code(scorer, output, reference, arg) == pytest.approx(expected)
