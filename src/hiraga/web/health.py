"""Liveness, readiness and metrics.

``/healthz`` (liveness): the process answers; nothing else is checked, so a slow database never gets a
replica restarted. ``/readyz`` (readiness): the database answers and its schema is this code's (or a
newer hiraga's, during a rolling upgrade: migrations are additive); 503 otherwise, with a log line
when the state changes. ``/metrics``: Prometheus, behind ``HIRAGA_METRICS_TOKEN`` when it is set.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from hiraga.errors import NotAuthenticated
from hiraga.store import migrate
from hiraga.web.deps import app_context

router = APIRouter(include_in_schema=False)
log = logging.getLogger("hiraga.health")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    ctx = app_context(request)
    checks: dict[str, str] = {}
    try:
        with ctx.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = str(migrate.schema_state(ctx.database.engine))
    except Exception:  # the point of this endpoint is to report, not to raise
        checks.setdefault("database", "unreachable")
    ready = checks.get("database") == "ok" and checks.get("migrations") in ("ok", "newer")
    _log_change(request, ready, checks)
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    body = {"error": {"code": "not_ready", "message": "準備ができていません。", "detail": checks}}
    return JSONResponse(body, status_code=503)


def _log_change(request: Request, ready: bool, checks: dict[str, str]) -> None:
    state = "ready" if ready else ",".join(f"{k}={v}" for k, v in sorted(checks.items()))
    if getattr(request.app.state, "readiness", None) == state:
        return
    request.app.state.readiness = state
    if ready:
        log.info("hiraga: 準備ができました（/readyz 200）")
    elif checks.get("migrations") == "pending":
        log.warning(
            "hiraga: データベースのスキーマが古いため準備ができていません。hiraga db upgrade を実行してください（%s）",
            state,
        )
    else:
        log.warning("hiraga: データベースに接続できないため準備ができていません（%s）", state)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    token = app_context(request).settings.metrics_token
    if token is not None:
        offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(offered.encode(), token.get_secret_value().encode()):
            raise NotAuthenticated("メトリクスのトークンが正しくありません。", headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
