"""Routing by task end to end: ``hiraga eval route`` sets ``auto-summarise`` from measured scores, and
a task app asking the gateway for ``auto`` is served by the best model of its task (the alias in the
audit record); other callers asking for ``auto`` get the general ``auto`` alias."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from gateway_stub import StubUpstream
from sqlalchemy import select

from hiraga.cli.common import CLI_OPERATOR
from hiraga.evaluation import routing, runs
from hiraga.evaluation.service import open_evaluation
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import AliasMember
from hiraga.settings import Settings
from hiraga.spine.call import ModelCall
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, EvalResult, EvalRun

from .conftest import OPERATOR


def measured(database: Database, model: str, score: float) -> None:
    with database.session() as db:
        run = EvalRun(suite="summary-fidelity", suite_version="1", model=model, state=runs.COMPLETED)
        db.add(run)
        db.flush()
        db.add(EvalResult(run_id=run.id, item_id="i", ordinal=0, prompt="p", score=score, cost_jpy=Decimal(0)))


def test_auto_from_a_task_app_takes_the_best_measured_model_of_its_task(
    database: Database, settings: Settings, stub: StubUpstream, models: tuple[str, str]
) -> None:
    measured(database, "stub-a", 0.4)
    measured(database, "stub-b", 0.9)
    with database.session() as db:
        routing.set_task_route(db, OPERATOR, task="summarise", alias="auto-summarise")
        registry.set_alias(db, OPERATOR, "auto", [AliasMember(endpoint="stub-a")])
        db.commit()

    async def ask(source: str) -> str:
        async with open_evaluation(settings) as service:
            call = ModelCall(principal=CLI_OPERATOR, kind="chat", requested_model="auto", source=source)
            body = {"model": "auto", "messages": [{"role": "user", "content": "要約して"}]}
            return (await service.gateway.chat(call, body)).endpoint.name

    assert asyncio.run(ask("app:summarise")) == "stub-b"  # measured best for summarise
    assert asyncio.run(ask("app:translate")) == "stub-a"  # no translate route: the general alias
    assert asyncio.run(ask("api")) == "stub-a"
    with database.session() as db:
        calls = select(AuditRecord.detail).where(AuditRecord.model == "auto", AuditRecord.action == "model_call")
        details = [json.loads(d) for d in db.scalars(calls.order_by(AuditRecord.id))]
    assert [d.get("routed_by") for d in details] == ["auto-summarise", None, None]
