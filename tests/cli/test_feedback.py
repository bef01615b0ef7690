"""``hiraga feedback policy|export``: the operator sets a team's policy and exports approved items
into a new folder; an existing folder is refused."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner, Result
from sqlalchemy import select

from hiraga.cli.main import cli
from hiraga.store.database import Database
from hiraga.store.tables import DatasetItem, Team, User

from .conftest import CliTarget


def run(target: CliTarget, *words: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, target.args(*words), env=target.env, input=input)


def test_policy_and_export(target: CliTarget) -> None:
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    assert run(target, "admin", "create-team", "企画課", "--org", "A市").exit_code == 0
    shown = run(target, "feedback", "policy", "企画課")
    assert shown.exit_code == 0 and "使いません" in shown.output
    changed = run(target, "feedback", "policy", "企画課", "--training-use", "--licence", "CC-BY-4.0")
    assert changed.exit_code == 0 and "機密性1の会話" in changed.output and "CC-BY-4.0" in changed.output
    created = run(
        target,
        "admin",
        "create-user",
        "a@example.jp",
        "--team",
        "企画課",
        "--password-stdin",
        input="Passw0rd-long-2026\n",
    )
    assert created.exit_code == 0, created.output
    database = Database(target.database_url)
    try:
        with database.session() as db:
            team_id = db.scalar(select(Team.id))
            user_id = db.scalar(select(User.id))
            assert team_id and user_id
            content = {"prompt": [{"role": "user", "content": "質問"}], "answer": "回答", "corrected": ""}
            for status in ("approved", "pending"):
                db.add(
                    DatasetItem(
                        team_id=team_id,
                        user_id=user_id,
                        source="chat",
                        task="chat",
                        model_name="m1",
                        rating="good",
                        content=json.dumps(content, ensure_ascii=False),
                        status=status,
                    )
                )
    finally:
        database.dispose()
    out = target.data_dir.parent / "export"
    done = run(target, "feedback", "export", str(out), "--team", "企画課", "--since", "2000-01-01")
    assert done.exit_code == 0, done.output
    assert re.search(r"項目 1 件: sft.jsonl 1 行、preference.jsonl 0 行、kto.jsonl 1 行", done.output)
    assert json.loads((out / "sft.jsonl").read_text())["messages"][-1] == {"role": "assistant", "content": "回答"}
    again = run(target, "feedback", "export", str(out))
    assert again.exit_code == 1 and "すでにあります" in again.output
    bad = run(target, "feedback", "export", str(out) + "2", "--since", "昨日")
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
