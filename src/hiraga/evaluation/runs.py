"""Evaluation runs in the database (framework-free, synchronous): create, claim (a queued run, or a
running one whose heartbeat is stale because its process died), record each item as it finishes,
finish, cancel, resume. Finished items are committed in small batches with the run's counters, so a
crash loses at most the items not yet written and a resumed run never calls a written item again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import CursorResult, insert, or_, select, update
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import Conflict, InvalidInput, NotFound
from hiraga.evaluation.base import suite_named
from hiraga.evaluation.private_sets import find_set
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database
from hiraga.store.tables import EvalResult, EvalRun
from hiraga.store.tables.base import utcnow

QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
COMPLETED, CANCELLED, FAILED = "completed", "cancelled", "failed"
ACTIVE = (QUEUED, RUNNING, PAUSED)
MAX_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class RunRequest:
    suite: str  # a suite name, or "set:<id>" for a private set
    model: str
    limit: int | None = None
    seed: int = 0
    concurrency: int = 4
    temperature: float = 0.0
    max_tokens: int = 512
    cost_cap_jpy: Decimal | None = None
    team_id: int | None = None
    classification: int = 1


def create_run(db: Session, scope: AccessScope, request: RunRequest) -> EvalRun:
    """A queued run. A private set's run takes the set's team and 機密性; a public suite's run is
    started by a system admin or a team admin (charged to their team)."""
    if not 1 <= request.concurrency <= MAX_CONCURRENCY or (request.limit is not None and request.limit < 1):
        raise InvalidInput(f"並列数は 1〜{MAX_CONCURRENCY}、件数は 1 以上にしてください。", code="eval_bad_run")
    team_id, level, set_id = request.team_id, request.classification, None
    if request.suite.startswith("set:"):
        found = find_set(db, scope, _set_id(request.suite))
        scope.require_team_admin(found.team_id)
        team_id, level, set_id, version = found.team_id, found.classification, found.id, f"items={found.item_count}"
    else:
        version = suite_named(request.suite).version
        if team_id is not None:
            scope.require_team_admin(team_id)
        else:
            scope.require_system_admin()
    run = EvalRun(
        suite=request.suite,
        suite_version=version,
        set_id=set_id,
        model=request.model,
        team_id=team_id,
        classification=level,
        seed=request.seed,
        item_limit=request.limit,
        concurrency=request.concurrency,
        temperature=request.temperature,
        max_tokens=request.max_tokens,
        cost_cap_jpy=request.cost_cap_jpy,
        state=QUEUED,
        created_by=scope.principal.user_id,
    )
    db.add(run)
    db.flush()
    detail = {"run_id": run.id, "suite": run.suite, "limit": run.item_limit, "cost_cap_jpy": run.cost_cap_jpy}
    events.record(db, events.EVAL_RUN_STARTED, scope.principal, subject=run.model, team_id=team_id, detail=detail)
    db.commit()
    return run


def _set_id(suite: str) -> int:
    try:
        return int(suite.split(":", 1)[1])
    except ValueError:
        raise NotFound("テストセットが見つかりません。", code="eval_set_not_found") from None


def visible_runs(db: Session, scope: AccessScope, limit: int = 200) -> list[EvalRun]:
    """Runs of public suites, and private-set runs of the caller's teams."""
    query = select(EvalRun).where(or_(EvalRun.set_id.is_(None), scope.team_filter(EvalRun.team_id)))
    return list(db.scalars(query.order_by(EvalRun.id.desc()).limit(limit)))


def find_run(db: Session, scope: AccessScope, run_id: int) -> EvalRun:
    run = db.get(EvalRun, run_id)
    if run is None or (run.set_id is not None and (run.team_id is None or not scope.can_see_team(run.team_id))):
        raise NotFound("評価の実行が見つかりません。", code="eval_run_not_found")
    return run


def _manage(db: Session, scope: AccessScope, run_id: int) -> EvalRun:
    run = find_run(db, scope, run_id)
    if run.created_by != scope.principal.user_id:
        if run.team_id is not None:
            scope.require_team_admin(run.team_id)
        else:
            scope.require_system_admin()
    return run


def cancel_run(db: Session, scope: AccessScope, run_id: int) -> EvalRun:
    """Stop a run: the runner sees the state between items and stops calling the model."""
    run = _manage(db, scope, run_id)
    if run.state not in ACTIVE:
        raise Conflict("この実行は既に終わっています。", code="eval_run_finished")
    run.state, run.finished_at = CANCELLED, utcnow()
    detail = {"run_id": run.id, "suite": run.suite}
    events.record(db, events.EVAL_RUN_CANCELLED, scope.principal, subject=run.model, team_id=run.team_id, detail=detail)
    db.commit()
    return run


def resume_run(db: Session, scope: AccessScope, run_id: int) -> EvalRun:
    """Queue a paused, cancelled or failed run again; finished items are kept and not called again."""
    run = _manage(db, scope, run_id)
    if run.state in (QUEUED, RUNNING, COMPLETED):
        raise Conflict("この実行は再開できる状態ではありません。", code="eval_run_not_resumable")
    run.state, run.error_code, run.error_message, run.finished_at = QUEUED, None, None, None
    db.commit()
    return run


def claim_run(database: Database, stale_after: timedelta, run_id: int | None = None) -> int | None:
    """Take a queued run (or ``run_id``), or a running one whose process stopped beating."""
    stale = utcnow() - stale_after
    claimable = or_(EvalRun.state == QUEUED, (EvalRun.state == RUNNING) & (EvalRun.heartbeat_at < stale))
    with database.session() as db:
        query = select(EvalRun.id).where(claimable).order_by(EvalRun.id).limit(1)
        found = db.scalar(query.where(EvalRun.id == run_id) if run_id is not None else query)
        if found is None:
            return None
        claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
            update(EvalRun)
            .where(EvalRun.id == found, claimable)
            .values(state=RUNNING, heartbeat_at=utcnow(), started_at=utcnow())
        )
        return found if claimed.rowcount == 1 else None


def heartbeat(database: Database, run_id: int) -> str:
    """Renew the heartbeat; the run's state (the runner stops unless it is still running)."""
    with database.session() as db:
        db.execute(update(EvalRun).where(EvalRun.id == run_id, EvalRun.state == RUNNING).values(heartbeat_at=utcnow()))
        return str(db.scalar(select(EvalRun.state).where(EvalRun.id == run_id)))


def finished_items(database: Database, run_id: int) -> set[str]:
    with database.session() as db:
        return set(db.scalars(select(EvalResult.item_id).where(EvalResult.run_id == run_id)))


@dataclass(slots=True)
class ItemResult:
    item_id: str
    ordinal: int
    prompt: str
    reference: str | None
    output: str
    score: float | None
    detail: dict[str, Any]
    error_code: str | None
    endpoint_name: str | None
    latency_ms: float
    input_tokens: int
    output_tokens: int
    cost_jpy: Decimal


def record(database: Database, run_id: int, batch: Sequence[ItemResult]) -> str:
    """Finished items and the run's counters, in one transaction (an item already recorded, by a
    takeover race, is kept once); the run's state afterwards (cancelled elsewhere: the runner stops)."""
    with database.session() as db:
        ids = [r.item_id for r in batch]
        known = set(
            db.scalars(select(EvalResult.item_id).where(EvalResult.run_id == run_id, EvalResult.item_id.in_(ids)))
        )
        fresh = list({r.item_id: r for r in batch if r.item_id not in known}.values())
        if fresh:
            db.execute(insert(EvalResult), [_row(run_id, r) for r in fresh])
            db.execute(
                update(EvalRun)
                .where(EvalRun.id == run_id)
                .values(
                    items_done=EvalRun.items_done + len(fresh),
                    items_failed=EvalRun.items_failed + sum(r.score is None for r in fresh),
                    cost_jpy=EvalRun.cost_jpy + sum((r.cost_jpy for r in fresh), Decimal(0)),
                    heartbeat_at=utcnow(),
                )
            )
        return str(db.scalar(select(EvalRun.state).where(EvalRun.id == run_id)))


def _row(run_id: int, result: ItemResult) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "item_id": result.item_id,
        "ordinal": result.ordinal,
        "prompt": result.prompt,
        "reference": result.reference,
        "output": result.output,
        "score": result.score,
        "detail_json": json.dumps(result.detail, ensure_ascii=False, default=str),
        "error_code": result.error_code,
        "endpoint_name": result.endpoint_name,
        "latency_ms": result.latency_ms,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_jpy": result.cost_jpy,
        "created_at": utcnow(),
    }


def finish(database: Database, run_id: int, state: str, code: str | None = None, message: str | None = None) -> str:
    """End a run the runner held (a run cancelled meanwhile stays cancelled); its final state."""
    with database.session() as db:
        values: dict[str, Any] = {"state": state, "error_code": code, "error_message": message}
        if state != PAUSED:
            values["finished_at"] = utcnow()
        db.execute(update(EvalRun).where(EvalRun.id == run_id, EvalRun.state == RUNNING).values(**values))
        return str(db.scalar(select(EvalRun.state).where(EvalRun.id == run_id)))


def results(db: Session, run_id: int, *, failed_only: bool = False, limit: int = 500) -> Sequence[EvalResult]:
    query = select(EvalResult).where(EvalResult.run_id == run_id)
    if failed_only:
        query = query.where(or_(EvalResult.score.is_(None), EvalResult.score < 0.5))
    return list(db.scalars(query.order_by(EvalResult.ordinal).limit(limit)))
