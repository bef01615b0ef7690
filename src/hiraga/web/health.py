"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from hiraga.store import migrate
from hiraga.web.deps import app_context

router = APIRouter(include_in_schema=False)


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
        current = migrate.is_current(ctx.database.engine, ctx.database.url)
        checks["migrations"] = "ok" if current else "pending"
    except Exception:  # the point of this endpoint is to report, not to raise
        checks.setdefault("database", "unreachable")
    ready = all(v == "ok" for v in checks.values()) and "migrations" in checks
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    body = {"error": {"code": "not_ready", "message": "準備ができていません。", "detail": checks}}
    return JSONResponse(body, status_code=503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
