"""Every route under /api/v1 × every role × own/other team → the expected status.

The routes come from the app itself: a route added without a row here fails
``test_every_api_route_is_in_the_matrix``. For list routes the cell says whether the own or the
other team's object must appear in the list, so a list that forgets scoping fails too. Every
refused request must leave the database exactly as it was.

Adding a route: add its row here. Path ids of the kinds organisation/team/user/key are filled from
the world (own team's objects or the other team's); a route with other ids gives ``prepare``, which
creates what it needs for the role and target and returns ``{"<kind>": id}`` for ``{<kind>_id}``."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from hiraga.store.database import Database
from hiraga.store.tables import (
    ArenaBattle,
    Bot,
    BuilderApp,
    BuilderAppTeam,
    Conversation,
    DatasetItem,
    EvalPairwise,
    EvalRun,
    EvalSet,
    KbDocument,
    KnowledgeBase,
    LimitDefinition,
    McpServer,
    McpTool,
    McpToolCall,
    Message,
    ModelAlias,
    ModelEndpoint,
    PlatformSetting,
    ProvidedAppKey,
    RegisteredApp,
    RegisteredAppTeam,
    UsageRecord,
)

from .world import ROLES, World, snapshot

SEES, HIDDEN = "一覧に含む", "一覧に含まない"
Cell = int | str | tuple[int | str, int | str]  # one value for both targets, or (own, other)
Body = Callable[[World, str, int], dict[str, Any]]
# (database, world, role, target) -> ids; an int fills ``{<kind>_id}``, a str fills ``{<kind>}``
Prepare = Callable[[Database, World, str, str], dict[str, int | str]]


@dataclass(frozen=True)
class Entry:
    expected: dict[str, Cell]
    body: Body | None = None
    listed: str | None = None  # list routes: which kind of id must (not) appear
    prepare: Prepare | None = None


def row(anonymous: Cell, member: Cell, team_admin: Cell, auditor: Cell, system_admin: Cell) -> dict[str, Cell]:
    return dict(zip(ROLES, (anonymous, member, team_admin, auditor, system_admin), strict=True))


def _new_organisation(world: World, target: str, n: int) -> dict[str, Any]:
    return {"name": f"新しい組織{n}"}


def _new_team(world: World, target: str, n: int) -> dict[str, Any]:
    return {"organisation_id": world.organisation[target], "name": f"新しい課{n}"}


def _new_user(world: World, target: str, n: int) -> dict[str, Any]:
    return {"email": f"new{n}@example.jp", "password": "Matrix-pass-2026", "team_id": world.team[target]}


LIMIT_KINDS = [(m, w) for m in ("requests", "tokens", "cost_jpy") for w in ("minute", "day", "month")]


def _new_limit(world: World, target: str, n: int) -> dict[str, Any]:
    metric, window = LIMIT_KINDS[n % len(LIMIT_KINDS)]
    return {"scope": "team", "subject_id": world.team[target], "metric": metric, "window": window, "amount": 10}


def _team_limit(database: Database, world: World, role: str, target: str) -> dict[str, int]:
    with database.session() as db:
        team = world.team[target]
        db.execute(sa.delete(LimitDefinition).where(LimitDefinition.subject_id == team))
        row = LimitDefinition(scope="team", subject_id=team, metric="tokens", window="day", amount=100)
        db.add(row)
        db.flush()
        return {"limit": row.id}


def _model_endpoint(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """Models are platform-wide (system admins only): the same endpoint and alias for both targets."""
    with database.session() as db:
        db.execute(sa.delete(ModelAlias).where(ModelAlias.name == "matrix-alias"))
        db.execute(sa.delete(ModelEndpoint).where(ModelEndpoint.name == "matrix-model"))
        endpoint = ModelEndpoint(
            name="matrix-model",
            provider="openai",
            base_url="https://models.example.com/v1",
            upstream_model="stub",
            all_teams=True,
        )
        db.add(endpoint)
        db.flush()
        db.add(ModelAlias(name="matrix-alias", endpoint_id=endpoint.id, priority=0))
    return {"endpoint": "matrix-model", "name": "matrix-alias"}


def _new_model(world: World, target: str, n: int) -> dict[str, Any]:
    return {
        "name": f"matrix-new-{n}",
        "provider": "openai",
        "base_url": "https://api.example.com/v1",
        "upstream_model": "gpt-x",
        "all_teams": True,
    }


SYSTEM_ADMIN_ONLY = (401, 403, 403, 403)


def _usage_record(database: Database, world: World, role: str, target: str) -> dict[str, int]:
    with database.session() as db:
        row = UsageRecord(
            request_id=uuid.uuid4().hex,
            created_at=datetime.now(UTC),
            user_id=world.colleague,
            team_id=world.team[target],
            kind="chat",
            model="m",
            input_tokens=1,
            output_tokens=1,
            estimated=False,
            cost_jpy=0,
            outcome="ok",
            source="api",
        )
        db.add(row)
        db.flush()
        return {"usage": row.id}


APP_FORM = '{"input_text": {"type": "textarea", "title": "本文", "required": true}}'


def _registered_app(database: Database, world: World, role: str, target: str) -> dict[str, int]:
    """A published app owned by and published to the target team (its URL is never called)."""
    with database.session() as db:
        team = world.team[target]
        app = RegisteredApp(
            slug=f"matrix-{uuid.uuid4().hex[:12]}",
            name="行列アプリ",
            endpoint_url="https://8.8.8.8/app",
            form_definition=APP_FORM,
            status="published",
            owner_team_id=team,
        )
        app.teams = [RegisteredAppTeam(team_id=team)]
        db.add(app)
        db.flush()
        return {"app": app.id}


def _new_app(world: World, target: str, n: int) -> dict[str, Any]:
    return {
        "slug": f"new-app-{n}",
        "name": f"新しいアプリ{n}",
        "endpoint_url": "https://8.8.8.8/app",
        "form_definition": {"q": {"type": "text", "title": "質問"}},
        "owner_team_id": world.team[target],
    }


def _provided_key(database: Database, world: World, role: str, target: str) -> dict[str, int]:
    with database.session() as db:
        owner = world.colleague if target == "own" else world.stranger.user_id
        row = ProvidedAppKey(
            app_name="summarise",
            name="k",
            prefix="hga-x",
            digest=uuid.uuid4().hex,
            user_id=owner,
            team_id=world.team[target],
        )
        db.add(row)
        db.flush()
        return {"provided_key": row.id}


def _audit_record(database: Database, world: World, role: str, target: str) -> dict[str, int]:
    """One chained audit record of the target team (appended as the gateway would)."""
    from hiraga.audit import chain, keys

    engine = database.engine.execution_options(**{keys.OPTION: keys.derive(world.secret).chain})
    with engine.begin() as connection:
        row = {"occurred_at": datetime.now(UTC), "action": "model_call", "team_id": world.team[target]}
        chain.append(connection, [{**row, "actor_user_id": world.colleague, "outcome": "ok"}])
        return {"audit": int(connection.execute(sa.select(sa.func.max(chain.AUDIT.c.id))).scalar_one())}


# -- the portal (issue 4): conversations are private to their user; bots and builder apps belong to teams
def _caller_id(world: World, role: str, target: str) -> int:
    return world.actors.get(role, world.actors["member"]).user_id if target == "own" else world.stranger.user_id


def _conversation(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """The caller's own conversation, or the stranger's, with a question and an answer in it."""
    with database.session() as db:
        conversation = Conversation(user_id=_caller_id(world, role, target), title="行列の会話", model="default")
        db.add(conversation)
        db.flush()
        question = Message(conversation_id=conversation.id, position=0, role="user", content="質問")
        answer = Message(conversation_id=conversation.id, position=1, role="assistant", content="回答")
        db.add_all([question, answer])
        db.flush()
        return {"conversation": conversation.id, "message": question.id, "reply": answer.id}


def _empty_conversation(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    with database.session() as db:
        conversation = Conversation(user_id=_caller_id(world, role, target), title="空の会話", model="default")
        db.add(conversation)
        db.flush()
        return {"conversation": conversation.id}


def _reply(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    ids = _conversation(database, world, role, target)
    return {**ids, "message": ids["reply"]}


def _bot(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    with database.session() as db:
        bot = Bot(team_id=world.team[target], name="行列ボット", system_prompt="丁寧に答える。")
        db.add(bot)
        db.flush()
        return {"bot": bot.id}


def _builder_app(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    with database.session() as db:
        team = world.team[target]
        app = BuilderApp(name="行列アプリ", template="{{件名}}について書く", owner_team_id=team)
        app.teams = [BuilderAppTeam(team_id=team)]
        db.add(app)
        db.flush()
        return {"builder_app": app.id}


def _new_builder_app(world: World, target: str, n: int) -> dict[str, Any]:
    team = world.team[target]
    return {"name": f"アプリ{n}", "template": "{{件名}}の案内文", "owner_team_id": team, "team_ids": [team]}


# -- knowledge bases (issue 6): team members read, search and ask; team admins manage
def _knowledge_base(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """A knowledge base of the target team with one (not yet ingested) document."""
    with database.session() as db:
        kb = KnowledgeBase(
            organisation_id=world.organisation[target],
            team_id=world.team[target],
            name=f"行列KB-{uuid.uuid4().hex[:8]}",
            classification=2,
        )
        db.add(kb)
        db.flush()
        document = KbDocument(kb_id=kb.id, name="規程.txt", content_hash="0" * 64, byte_size=1, status="pending")
        db.add(document)
        db.flush()
        return {"kb": kb.id, "document": document.id}


def _new_kb(world: World, target: str, n: int) -> dict[str, Any]:
    return {"name": f"新しいKB{n}", "team_id": world.team[target], "classification": 2}


# -- MCP (issue 18): system admins register servers and judge tools, team admins enable them for their
# teams, a held tool call is decided by the user who asked only
def _mcp_tool(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """A registered server (a private address: refreshing it is refused before any connection) and a tool."""
    with database.session() as db:
        server = McpServer(name=f"m{uuid.uuid4().hex[:12]}", url="http://10.255.255.1/mcp", command=[])
        db.add(server)
        db.flush()
        tool = McpTool(server_id=server.id, name="book", exposed_name=f"{server.name}__book", input_schema={})
        db.add(tool)
        db.flush()
        return {"server": server.id, "tool": tool.id}


def _mcp_call(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """A held tool call of the caller (own) or of the stranger (other); rejecting it calls nothing."""
    with database.session() as db:
        call = McpToolCall(
            user_id=_caller_id(world, role, target),
            tool_name="x__book",
            turn_id=uuid.uuid4().hex,
            call_id="c1",
            status="pending",
            expires_at=datetime(2999, 1, 1, tzinfo=UTC),
        )
        db.add(call)
        db.flush()
        return {"call": call.id}


MCP_ADMIN = row(401, 403, 403, 403, 200)
KB_READ = row(401, (200, 404), (200, 404), 200, 200)
KB_MANAGE = row(401, (403, 404), (204, 404), 403, 204)


def _task_run(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """A finished summarise run of the caller's, or the stranger's, with the messages it sent."""
    from hiraga.identity.principal import Principal
    from hiraga.portal import task_history

    record = task_history.RunRecord(
        "ok", "要約です。", models=["default"], prompt=[{"role": "user", "content": "要約して"}], classification=1
    )
    owner = Principal(user_id=_caller_id(world, role, target), email="owner@x", display_name="owner")
    with database.session() as db:
        return {"app_name": "summarise", "run": task_history.keep(db, owner, "summarise", "要約して", record)}


def _task_feedback(world: World, target: str, n: int) -> dict[str, Any]:
    return {
        "receipt": "0" * 64,
        "task": "summarise",
        "prompt": [{"role": "user", "content": "要約して"}],
        "answer": "要約です。",
        "model_name": "default",
        "classification": 1,
        "answered_at": "2026-12-01T00:00:00Z",
        "rating": "good",
    }


def _dataset_item(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """A feedback-dataset item of the caller in the own team, or the stranger's in the other team."""
    with database.session() as db:
        item = DatasetItem(
            team_id=world.team[target],
            user_id=_caller_id(world, role, target),
            source="chat",
            task="chat",
            content='{"prompt": [{"role": "user", "content": "質問"}], "answer": "回答"}',
        )
        db.add(item)
        db.flush()
        return {"item": item.id, "dataset_item": item.id}


PRIVATE = row(401, (200, 404), (200, 404), (200, 404), (200, 404))
PAST_AUTHORISATION = row(401, (400, 404), (400, 404), (400, 404), (400, 404))  # 400: blank input, no model call


# -- evaluation (issue 15): private sets and their runs belong to teams; public suites are for everyone
def _eval_run(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """A private set of the target team and two paused runs of it (paused: no worker takes them)."""
    with database.session() as db:
        team = world.team[target]
        found = EvalSet(team_id=team, name=f"行列セット-{uuid.uuid4().hex[:8]}", classification=1)
        db.add(found)
        db.flush()
        ids: dict[str, int | str] = {"set": found.id}
        for kind in ("run", "other_run"):
            run = EvalRun(suite=f"set:{found.id}", suite_version="items=0", set_id=found.id, model="m", team_id=team)
            run.state = "paused"
            db.add(run)
            db.flush()
            ids[kind] = run.id
        return ids


def _eval_pairwise(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """Two runs of the target team with a stored pairwise judgement of them."""
    ids = _eval_run(database, world, role, target)
    with database.session() as db:
        db.add(
            EvalPairwise(
                suite=f"set:{ids['set']}",
                run_a_id=ids["run"],
                run_b_id=ids["other_run"],
                judge_model="judge",
                judge_version="pairwise-v1",
                items=0,
                b_wins=0,
                ties=0,
                a_wins=0,
                position_bias=0,
                judge_errors=0,
                b_win_rate=0.5,
                low=0.0,
                high=1.0,
            )
        )
    return ids


def _arena_on(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    with database.session() as db:
        key = f"arena.team.{world.team[target]}"
        if db.get(PlatformSetting, key) is None:
            db.add(PlatformSetting(key=key, value="on"))
    return _model_endpoint(database, world, role, target)


def _battle(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    """An undecided battle of the caller (own) or of the stranger (other)."""
    with database.session() as db:
        battle = ArenaBattle(
            team_id=world.team[target], user_id=_caller_id(world, role, target), prompt="質問",
            model_a="a", model_b="b", answer_a="A", answer_b="B",
        )  # fmt: skip
        db.add(battle)
        db.flush()
        return {"battle": battle.id}


def _report_model(database: Database, world: World, role: str, target: str) -> dict[str, int | str]:
    return {"model": str(_model_endpoint(database, world, role, target)["endpoint"])}


def _new_eval_run(world: World, target: str, n: int) -> dict[str, Any]:
    return {"suite": "safety", "model": "matrix-model", "team_id": world.team[target], "limit": 1}


EVAL_TEAM_READ = row(401, (200, 404), (200, 404), 200, 200)
EVAL_TEAM_MANAGE = row(401, (403, 404), (200, 404), 403, 200)


MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", "/api/v1/mcp/servers"): Entry(row(401, 403, 200, 403, 200)),
    ("POST", "/api/v1/mcp/servers"): Entry(
        row(401, 403, 403, 403, 201), body=lambda w, t, n: {"name": f"s{n}", "url": "https://8.8.8.8/mcp"}
    ),
    ("PATCH", "/api/v1/mcp/servers/{server_id}"): Entry(
        MCP_ADMIN, body=lambda w, t, n: {"description": "変更"}, prepare=_mcp_tool
    ),
    ("DELETE", "/api/v1/mcp/servers/{server_id}"): Entry(row(401, 403, 403, 403, 204), prepare=_mcp_tool),
    # 400: past authorisation, the private address is refused before any connection
    ("POST", "/api/v1/mcp/servers/{server_id}/refresh"): Entry(row(401, 403, 403, 403, 400), prepare=_mcp_tool),
    ("PUT", "/api/v1/mcp/tools/{tool_id}/effect"): Entry(
        MCP_ADMIN, body=lambda w, t, n: {"effect": "read_only"}, prepare=_mcp_tool
    ),
    ("PUT", "/api/v1/mcp/tools/{tool_id}/teams"): Entry(
        row(401, (403, 404), (200, 404), 403, 200),
        body=lambda w, t, n: {"team_id": w.team[t], "enabled": True},
        prepare=_mcp_tool,
    ),
    ("GET", "/api/v1/mcp/tools"): Entry(row(401, 200, 200, 200, 200)),
    ("GET", "/api/v1/mcp/calls"): Entry(row(401, 200, 200, 200, 200)),
    ("POST", "/api/v1/mcp/calls/{call_id}/decision"): Entry(
        row(401, (200, 404), (200, 404), (200, 404), (200, 404)),
        body=lambda w, t, n: {"decision": "reject"},
        prepare=_mcp_call,
    ),
    ("GET", "/api/v1/organisations"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), SEES, SEES), listed="organisation"
    ),
    ("POST", "/api/v1/organisations"): Entry(row(401, 403, 403, 403, 201), body=_new_organisation),
    ("GET", "/api/v1/organisations/{organisation_id}"): Entry(row(401, (200, 404), (200, 404), 200, 200)),
    ("GET", "/api/v1/teams"): Entry(row(401, (SEES, HIDDEN), (SEES, HIDDEN), SEES, SEES), listed="team"),
    ("POST", "/api/v1/teams"): Entry(row(401, 403, 403, 403, 201), body=_new_team),
    ("GET", "/api/v1/teams/{team_id}"): Entry(row(401, (200, 404), (200, 404), 200, 200)),
    ("GET", "/api/v1/teams/{team_id}/members"): Entry(row(401, (200, 404), (200, 404), 200, 200)),
    ("PUT", "/api/v1/teams/{team_id}/members/{user_id}"): Entry(
        row(401, (403, 404), (200, 404), 403, 200), body=lambda w, t, n: {"role": "admin"}
    ),
    ("DELETE", "/api/v1/teams/{team_id}/members/{user_id}"): Entry(row(401, (403, 404), (204, 404), 403, 204)),
    ("GET", "/api/v1/users"): Entry(row(401, HIDDEN, (SEES, HIDDEN), SEES, SEES), listed="user"),
    ("POST", "/api/v1/users"): Entry(row(401, 403, (201, 404), 403, 201), body=_new_user),
    ("GET", "/api/v1/users/{user_id}"): Entry(row(401, 404, (200, 404), 200, 200)),
    ("PATCH", "/api/v1/users/{user_id}"): Entry(
        row(401, 403, 403, 403, 200), body=lambda w, t, n: {"is_active": False}
    ),
    ("GET", "/api/v1/me"): Entry(row(401, 200, 200, 200, 200)),
    ("GET", "/api/v1/me/keys"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), (SEES, HIDDEN), (SEES, HIDDEN)), listed="key"
    ),
    ("POST", "/api/v1/me/keys"): Entry(row(401, 201, 201, 201, 201), body=lambda w, t, n: {"name": f"鍵{n}"}),
    ("DELETE", "/api/v1/me/keys/{key_id}"): Entry(row(401, (204, 404), (204, 404), (204, 404), (204, 404))),
    ("GET", "/api/v1/limits"): Entry(
        row(401, HIDDEN, (SEES, HIDDEN), HIDDEN, SEES), listed="limit", prepare=_team_limit
    ),
    ("POST", "/api/v1/limits"): Entry(row(401, 403, (201, 404), 403, 201), body=_new_limit),
    ("PATCH", "/api/v1/limits/{limit_id}"): Entry(
        row(401, 404, (200, 404), 404, 200), body=lambda w, t, n: {"amount": 5}, prepare=_team_limit
    ),
    ("DELETE", "/api/v1/limits/{limit_id}"): Entry(row(401, 404, (204, 404), 404, 204), prepare=_team_limit),
    ("GET", "/api/v1/usage"): Entry(row(401, 403, (SEES, HIDDEN), SEES, SEES), listed="usage", prepare=_usage_record),
    ("GET", "/api/v1/usage/totals"): Entry(row(401, 403, 200, 200, 200)),
    ("GET", "/api/v1/audit"): Entry(row(401, 403, (SEES, HIDDEN), SEES, SEES), listed="audit", prepare=_audit_record),
    ("GET", "/api/v1/audit/export"): Entry(row(401, 403, 200, 200, 200), prepare=_audit_record),
    ("GET", "/api/v1/audit/verify"): Entry(row(401, 403, 403, 200, 200), prepare=_audit_record),
    ("POST", "/api/v1/kouyoubun/check"): Entry(
        row(401, 200, 200, 200, 200), body=lambda w, t, n: {"text": "申請して下さい。"}
    ),
    ("GET", "/api/v1/models"): Entry(row(*SYSTEM_ADMIN_ONLY, 200), prepare=_model_endpoint),
    ("POST", "/api/v1/models"): Entry(row(*SYSTEM_ADMIN_ONLY, 201), body=_new_model),
    ("GET", "/api/v1/models/aliases"): Entry(row(*SYSTEM_ADMIN_ONLY, 200), prepare=_model_endpoint),
    ("PUT", "/api/v1/models/aliases/{name:path}"): Entry(
        row(*SYSTEM_ADMIN_ONLY, 200),
        body=lambda w, t, n: {"members": [{"endpoint": "matrix-model", "priority": 1}]},
        prepare=_model_endpoint,
    ),
    ("DELETE", "/api/v1/models/aliases/{name:path}"): Entry(row(*SYSTEM_ADMIN_ONLY, 204), prepare=_model_endpoint),
    ("GET", "/api/v1/models/{endpoint}"): Entry(row(*SYSTEM_ADMIN_ONLY, 200), prepare=_model_endpoint),
    ("PATCH", "/api/v1/models/{endpoint}"): Entry(
        row(*SYSTEM_ADMIN_ONLY, 200), body=lambda w, t, n: {"description": f"変更{n}"}, prepare=_model_endpoint
    ),
    ("DELETE", "/api/v1/models/{endpoint}"): Entry(row(*SYSTEM_ADMIN_ONLY, 204), prepare=_model_endpoint),
    ("POST", "/api/v1/models/{endpoint}/test"): Entry(row(*SYSTEM_ADMIN_ONLY, 200), prepare=_model_endpoint),
    ("GET", "/api/v1/apps"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), HIDDEN, SEES), listed="app", prepare=_registered_app
    ),
    ("POST", "/api/v1/apps"): Entry(row(401, 403, (201, 404), 403, 201), body=_new_app),
    ("GET", "/api/v1/apps/{app_id}"): Entry(row(401, (200, 404), (200, 404), 404, 200), prepare=_registered_app),
    ("PATCH", "/api/v1/apps/{app_id}"): Entry(
        row(401, (403, 404), (200, 404), 404, 200), body=lambda w, t, n: {"name": f"改名{n}"}, prepare=_registered_app
    ),
    ("DELETE", "/api/v1/apps/{app_id}"): Entry(row(401, (403, 404), (204, 404), 404, 204), prepare=_registered_app),
    # 400: past authorisation, the run is refused for its missing required input (nothing is called)
    ("POST", "/api/v1/apps/{app_id}/runs"): Entry(
        row(401, (400, 404), (400, 404), 404, 400), body=lambda w, t, n: {"inputs": {}}, prepare=_registered_app
    ),
    ("GET", "/api/v1/apps/{app_id}/runs"): Entry(row(401, (200, 404), (200, 404), 404, 200), prepare=_registered_app),
    ("GET", "/api/v1/provided-apps"): Entry(row(401, 200, 200, 200, 200)),
    ("GET", "/api/v1/provided-apps/keys"): Entry(
        row(401, HIDDEN, (SEES, HIDDEN), HIDDEN, SEES), listed="provided_key", prepare=_provided_key
    ),
    ("POST", "/api/v1/provided-apps/keys"): Entry(
        row(401, 403, (201, 404), 403, 201),
        body=lambda w, t, n: {"app_name": "summarise", "name": f"鍵{n}", "team_id": w.team[t]},
    ),
    ("DELETE", "/api/v1/provided-apps/keys/{provided_key_id}"): Entry(
        row(401, 404, (204, 404), 404, 204), prepare=_provided_key
    ),
    ("GET", "/api/v1/conversations"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), (SEES, HIDDEN), (SEES, HIDDEN)),
        listed="conversation",
        prepare=_conversation,
    ),
    ("POST", "/api/v1/conversations"): Entry(row(401, 201, 201, 201, 201), body=lambda w, t, n: {"classification": 2}),
    ("GET", "/api/v1/conversations/{conversation_id}"): Entry(PRIVATE, prepare=_conversation),
    ("PATCH", "/api/v1/conversations/{conversation_id}"): Entry(
        PRIVATE, body=lambda w, t, n: {"title": f"改名{n}"}, prepare=_conversation
    ),
    ("DELETE", "/api/v1/conversations/{conversation_id}"): Entry(
        row(401, (204, 404), (204, 404), (204, 404), (204, 404)), prepare=_conversation
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): Entry(
        PAST_AUTHORISATION, body=lambda w, t, n: {"content": "   "}, prepare=_conversation
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/messages/{message_id}/edit"): Entry(
        PAST_AUTHORISATION, body=lambda w, t, n: {"content": " "}, prepare=_conversation
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/regenerate"): Entry(
        PAST_AUTHORISATION, body=lambda w, t, n: {}, prepare=_empty_conversation
    ),
    ("PUT", "/api/v1/conversations/{conversation_id}/messages/{message_id}/feedback"): Entry(
        PRIVATE, body=lambda w, t, n: {"rating": "good", "comment": "正確"}, prepare=_reply
    ),
    ("GET", "/api/v1/task-apps"): Entry(row(401, 200, 200, 200, 200)),
    ("POST", "/api/v1/task-apps/{name}/run"): Entry(
        row(401, 400, 400, 400, 400),
        body=lambda w, t, n: {"inputs": {}},
        prepare=lambda d, w, r, t: {"name": "generate"},
    ),
    ("GET", "/api/v1/bots"): Entry(row(401, (SEES, HIDDEN), (SEES, HIDDEN), HIDDEN, SEES), listed="bot", prepare=_bot),
    ("POST", "/api/v1/bots"): Entry(
        row(401, 403, (201, 404), 403, 201),
        body=lambda w, t, n: {"team_id": w.team[t], "name": f"ボット{n}", "system_prompt": "簡潔に答える。"},
    ),
    ("DELETE", "/api/v1/bots/{bot_id}"): Entry(row(401, (403, 404), (204, 404), 404, 204), prepare=_bot),
    ("GET", "/api/v1/builder-apps"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), HIDDEN, SEES), listed="builder_app", prepare=_builder_app
    ),
    ("POST", "/api/v1/builder-apps"): Entry(row(401, 403, (201, 404), 403, 201), body=_new_builder_app),
    ("GET", "/api/v1/builder-apps/{builder_app_id}"): Entry(
        row(401, (200, 404), (200, 404), 404, 200), prepare=_builder_app
    ),
    ("DELETE", "/api/v1/builder-apps/{builder_app_id}"): Entry(
        row(401, (403, 404), (204, 404), 404, 204), prepare=_builder_app
    ),
    ("POST", "/api/v1/builder-apps/{builder_app_id}/run"): Entry(
        row(401, (400, 404), (400, 404), 404, 400), body=lambda w, t, n: {"inputs": {}}, prepare=_builder_app
    ),
    ("GET", "/api/v1/kb"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), SEES, SEES), listed="kb", prepare=_knowledge_base
    ),
    ("POST", "/api/v1/kb"): Entry(row(401, 403, (201, 404), 403, 201), body=_new_kb),
    ("GET", "/api/v1/kb/{kb_id}"): Entry(KB_READ, prepare=_knowledge_base),
    ("PATCH", "/api/v1/kb/{kb_id}"): Entry(
        row(401, (403, 404), (200, 404), 403, 200),
        body=lambda w, t, n: {"reranker_model": None},
        prepare=_knowledge_base,
    ),
    ("DELETE", "/api/v1/kb/{kb_id}"): Entry(KB_MANAGE, prepare=_knowledge_base),
    ("GET", "/api/v1/kb/{kb_id}/documents"): Entry(KB_READ, prepare=_knowledge_base),
    # 400: past authorisation, a JSON body carries no files (nothing is stored)
    ("POST", "/api/v1/kb/{kb_id}/documents"): Entry(
        row(401, (403, 404), (400, 404), 403, 400), body=lambda w, t, n: {}, prepare=_knowledge_base
    ),
    ("DELETE", "/api/v1/kb/{kb_id}/documents/{document_id}"): Entry(KB_MANAGE, prepare=_knowledge_base),
    ("POST", "/api/v1/kb/{kb_id}/search"): Entry(
        KB_READ, body=lambda w, t, n: {"query": "規程"}, prepare=_knowledge_base
    ),
    ("GET", "/api/v1/feedback-datasets/policies/{team_id}"): Entry(row(401, (200, 404), (200, 404), 200, 200)),
    ("PUT", "/api/v1/feedback-datasets/policies/{team_id}"): Entry(
        row(401, (403, 404), (200, 404), 403, 200), body=lambda w, t, n: {"training_use": False}
    ),
    ("PUT", "/api/v1/feedback-datasets/opt-out"): Entry(
        row(401, 200, 200, 200, 200), body=lambda w, t, n: {"opted_out": False}
    ),
    # 400: past authorisation, a receipt the portal never gave
    ("POST", "/api/v1/feedback-datasets/task-outputs"): Entry(row(401, 400, 400, 400, 400), body=_task_feedback),
    # a user's own task-app runs only; another's run does not exist
    ("PUT", "/api/v1/feedback-datasets/task-runs/{app_name}/{run_id}"): Entry(
        row(401, (200, 404), (200, 404), (200, 404), (200, 404)),
        body=lambda w, t, n: {"rating": "bad", "category": "numbers"},
        prepare=_task_run,
    ),
    ("GET", "/api/v1/feedback-datasets/items"): Entry(
        row(401, 403, (SEES, HIDDEN), 403, SEES), listed="dataset_item", prepare=_dataset_item
    ),
    ("POST", "/api/v1/feedback-datasets/items/{item_id}/review"): Entry(
        row(401, (403, 404), (200, 404), 404, 200), body=lambda w, t, n: {"decision": "reject"}, prepare=_dataset_item
    ),
    ("POST", "/api/v1/feedback-datasets/items/{item_id}/withdraw"): Entry(
        row(401, (200, 404), (200, 404), (200, 404), 200), prepare=_dataset_item
    ),
    ("POST", "/api/v1/feedback-datasets/teams/{team_id}/bulk-approve"): Entry(
        row(401, (403, 404), (200, 404), 403, 200)
    ),
    ("POST", "/api/v1/feedback-datasets/teams/{team_id}/users/{user_id}/withdraw"): Entry(
        row(401, (403, 404), (200, 404), 403, 200)
    ),
    ("GET", "/api/v1/feedback-datasets/export"): Entry(row(401, 403, 200, 403, 200)),
    ("GET", "/api/v1/feedback-datasets/report"): Entry(row(401, 403, 200, 403, 200)),
    # 400: past authorisation, a blank question (no model is called)
    ("POST", "/api/v1/kb/{kb_id}/ask"): Entry(
        row(401, (400, 404), (400, 404), 400, 400), body=lambda w, t, n: {"question": " "}, prepare=_knowledge_base
    ),
    ("GET", "/api/v1/eval/suites"): Entry(row(401, 200, 200, 200, 200)),
    ("POST", "/api/v1/eval/runs"): Entry(
        row(401, 403, (202, 404), 403, 202), body=_new_eval_run, prepare=_model_endpoint
    ),
    ("GET", "/api/v1/eval/runs"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), SEES, SEES), listed="run", prepare=_eval_run
    ),
    ("GET", "/api/v1/eval/runs/{run_id}"): Entry(EVAL_TEAM_READ, prepare=_eval_run),
    ("GET", "/api/v1/eval/runs/{run_id}/results"): Entry(EVAL_TEAM_READ, prepare=_eval_run),
    ("GET", "/api/v1/eval/runs/{run_id}/compare/{other_run_id}"): Entry(EVAL_TEAM_READ, prepare=_eval_run),
    ("GET", "/api/v1/eval/runs/{run_id}/pairwise/{other_run_id}"): Entry(EVAL_TEAM_READ, prepare=_eval_pairwise),
    ("POST", "/api/v1/eval/runs/{run_id}/cancel"): Entry(EVAL_TEAM_MANAGE, prepare=_eval_run),
    ("POST", "/api/v1/eval/runs/{run_id}/resume"): Entry(EVAL_TEAM_MANAGE, prepare=_eval_run),
    ("GET", "/api/v1/eval/leaderboard"): Entry(row(401, 200, 200, 200, 200)),
    ("GET", "/api/v1/eval/sets"): Entry(
        row(401, (SEES, HIDDEN), (SEES, HIDDEN), SEES, SEES), listed="set", prepare=_eval_run
    ),
    # 400: past authorisation, a JSON body is not the multipart upload (nothing is stored)
    ("POST", "/api/v1/eval/sets"): Entry(row(401, 403, 400, 403, 400)),
    ("GET", "/api/v1/eval/sets/{set_id}"): Entry(EVAL_TEAM_READ, prepare=_eval_run),
    ("DELETE", "/api/v1/eval/sets/{set_id}"): Entry(row(401, (403, 404), (204, 404), 403, 204), prepare=_eval_run),
    ("GET", "/api/v1/eval/reports/{model:path}"): Entry(row(401, 200, 200, 200, 200), prepare=_report_model),
    ("PUT", "/api/v1/eval/arena/teams/{team_id}"): Entry(
        row(401, (403, 404), (204, 404), 403, 204), body=lambda w, t, n: {"enabled": True}
    ),
    # 400: past authorisation (arena on for the team), no two models cleared for 機密性3: nothing called
    ("POST", "/api/v1/eval/arena/battles"): Entry(
        row(401, (400, 404), (400, 404), 404, 404),
        body=lambda w, t, n: {"team_id": w.team[t], "prompt": "比べて", "classification": 3},
        prepare=_arena_on,
    ),
    ("POST", "/api/v1/eval/arena/battles/{battle_id}/vote"): Entry(
        PRIVATE, body=lambda w, t, n: {"winner": "a"}, prepare=_battle
    ),
    ("GET", "/api/v1/eval/arena/ratings"): Entry(row(401, 200, 200, 200, 200)),
    # 400: past authorisation, no measured model for the task yet
    ("PUT", "/api/v1/eval/routes"): Entry(
        row(*SYSTEM_ADMIN_ONLY, 400), body=lambda w, t, n: {"task": "summarise", "alias": "auto-summarise"}
    ),
}


def target_ids(world: World, role: str, target: str) -> dict[str, int | str]:
    """The ids a request names: the own team's objects, or the other team's."""
    own = target == "own"
    caller = world.actors.get(role, world.actors["member"])
    return {
        "organisation": world.organisation[target],
        "team": world.team[target],
        "user": world.colleague if own else world.stranger.user_id,
        "key": caller.spare_key_id if own else world.stranger.spare_key_id,
    }


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) under /api/v1 that the app serves, however its routers were included."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and route.path.startswith("/api/v1")
        for method in route.methods or {"*"}
        if method != "HEAD"
    }


def test_every_api_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = api_routes(app)
    assert routes - MATRIX.keys() == set(), "routes without an authorisation-matrix row"
    assert MATRIX.keys() - routes == set(), "matrix rows for routes that no longer exist"


def path_ids(database: Database, world: World, route: tuple[str, str], role: str, target: str) -> dict[str, int | str]:
    ids = target_ids(world, role, target)
    prepare = MATRIX[route].prepare
    return ids | prepare(database, world, role, target) if prepare else ids


def observe(
    client: TestClient, world: World, route: tuple[str, str], role: str, target: str, ids: dict[str, int | str], n: int
) -> int | str:
    method, template = route
    entry = MATRIX[route]
    values = {f"{kind}_id" if isinstance(value, int) else kind: value for kind, value in ids.items()}
    path = template.replace(":path}", "}").format(**values)
    body = entry.body(world, target, n) if entry.body else None
    response = client.request(method, path, json=body, headers=world.headers(role))
    if response.status_code >= 400:
        assert response.json()["error"]["message"], response.text
    if entry.listed is None or response.status_code != 200:
        return response.status_code
    return SEES if ids[entry.listed] in {item["id"] for item in response.json()} else HIDDEN


@pytest.mark.parametrize("route", sorted(MATRIX), ids=" ".join)
def test_route_obeys_the_matrix(route: tuple[str, str], client: TestClient, database: Database, world: World) -> None:
    mismatches = []
    for n, (role, target) in enumerate(itertools.product(ROLES, ("own", "other"))):
        cell = MATRIX[route].expected[role]
        expected = cell[0 if target == "own" else 1] if isinstance(cell, tuple) else cell
        ids = path_ids(database, world, route, role, target)
        before = snapshot(database)
        observed = observe(client, world, route, role, target, ids, n)
        if isinstance(observed, int) and observed >= 400 and snapshot(database) != before:
            mismatches.append(f"{role:12} {target:5}: refused with {observed} but changed the database")
        if observed != expected:
            mismatches.append(f"{role:12} {target:5}: expected {expected}, got {observed}")
        world.restore(database)
    assert not mismatches, f"{' '.join(route)}\n" + "\n".join(mismatches)


def _own(cell: Cell) -> int | str:
    return cell[0] if isinstance(cell, tuple) else cell


# Admin routes a plain member may never call: a member is refused (403) before the body is read. A
# route whose path names the target (a team's members, an app, a knowledge base) resolves the
# target first, so there an unseen one stays a 404; those are left out.
REFUSED_BEFORE_THE_BODY = sorted(
    route
    for route, entry in MATRIX.items()
    if entry.body is not None
    and (entry.expected["member"] == 403 or ("{" not in route[1] and _own(entry.expected["member"]) == 403))
)


@pytest.mark.parametrize("route", REFUSED_BEFORE_THE_BODY, ids=" ".join)
def test_a_member_is_refused_before_the_body_is_validated(
    route: tuple[str, str], client: TestClient, database: Database, world: World
) -> None:
    method, template = route
    ids = path_ids(database, world, route, "member", "own")
    values = {f"{kind}_id" if isinstance(value, int) else kind: value for kind, value in ids.items()}
    path = template.replace(":path}", "}").format(**values)
    for body in ({"unexpected": True}, [], {"name": 1}):
        response = client.request(method, path, json=body, headers=world.headers("member"))
        assert response.status_code == 403, (body, response.text)
        assert response.json()["error"]["code"] == "forbidden"
