"""SCIM 2.0 endpoints under ``/scim/v2``: the HTTP request becomes a scim2-server request, and the
answer comes back as ``application/scim+json``. Thin: ``identity.sso.scim.service`` does the work."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from scim2_server.requests import ScimRequest
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hiraga.identity.sso.scim.service import serve
from hiraga.web.deps import DbSession, app_context, client_address

PREFIX = "/scim/v2"
router = APIRouter(include_in_schema=False)


@router.api_route(PREFIX + "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def scim_endpoint(request: Request, path: str, db: DbSession) -> Response:
    body = await request.body()
    settings = app_context(request).settings
    scim_request = ScimRequest(
        method=request.method,
        base_url=settings.base_url.rstrip("/") + PREFIX,
        path="/" + path.removesuffix(".scim"),
        query=dict(request.query_params),
        headers=list(request.headers.items()),
        body=body,
    )
    response = await run_in_threadpool(
        serve, db, scim_request, client_address=client_address(request), break_glass=settings.break_glass_admins
    )
    content = b"" if response.body is None else orjson.dumps(response.body)
    return Response(content, status_code=int(response.status), headers=response.headers)
