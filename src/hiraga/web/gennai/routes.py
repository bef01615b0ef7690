"""``POST /gennai/apps/{name}`` (sync; ``?mode=async`` or ``Prefer: respond-async`` → 202 with
``status_url`` and ``request_id``), ``GET /gennai/apps/{name}/requests/{request_id}`` (the job's
status) and ``GET /gennai/apps/{name}`` (the app's form definition). Authenticated by the app's
own key in ``x-api-key``; errors as the protocol's ``{"error": "..."}`` (see the error mapper)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from hiraga.apps.provider_jobs import Caller, ProvidedRunner
from hiraga.apps.provider_side import ProvidedAppFields
from hiraga.web.deps import app_context

router = APIRouter(prefix="/gennai/apps", tags=["Gennai AI アプリ（提供側）"])
RUNNER_KEY = "provided_app_runner"
ApiKeyHeader = Annotated[str | None, Header(alias="x-api-key")]


def runner(request: Request) -> ProvidedRunner:
    found: ProvidedRunner = app_context(request).extras[RUNNER_KEY]
    return found


async def _caller(request: Request, name: str, key: str | None) -> Caller:
    return await asyncio.to_thread(runner(request).authenticate, name, key)


def _wants_async(mode: str | None, prefer: str | None) -> bool:
    return mode == "async" or "respond-async" in (prefer or "").lower()


@router.get("/{name}", summary="アプリのフォーム定義")
async def definition(name: str, request: Request, x_api_key: ApiKeyHeader = None) -> dict[str, Any]:
    await _caller(request, name, x_api_key)
    return {"name": name, **runner(request).app(name).definition().model_dump()}


@router.post("/{name}", summary="アプリの実行（同期・非同期）", response_model=None)
async def run_app(
    name: str,
    body: ProvidedAppFields,
    request: Request,
    x_api_key: ApiKeyHeader = None,
    mode: Annotated[str | None, Query()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> JSONResponse | dict[str, Any]:
    caller = await _caller(request, name, x_api_key)
    jobs = runner(request)
    if not _wants_async(mode, prefer):
        answer: dict[str, Any] = await jobs.run_now(name, caller, body.inputs, body.files)
        return answer
    request_id = await jobs.accept(name, caller, body.inputs, body.files)
    status_url = str(request.url_for("job_status", name=name, request_id=request_id))
    return JSONResponse({"status_url": status_url, "request_id": request_id}, status_code=202)


@router.get("/{name}/requests/{request_id}", summary="非同期処理の状態", name="job_status")
async def job_status(name: str, request_id: str, request: Request, x_api_key: ApiKeyHeader = None) -> dict[str, Any]:
    caller = await _caller(request, name, x_api_key)
    return await asyncio.to_thread(runner(request).status, name, caller, request_id)
