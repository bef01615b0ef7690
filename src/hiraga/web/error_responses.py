"""The one error-to-response mapper. Every error leaves as
``{"error": {"code", "message", "detail"}}``; under ``/v1`` as OpenAI's envelope
``{"error": {"message", "type", "param", "code"}}``; browsers asking for HTML get a page."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from hiraga.errors import HiragaError, InvalidInput, NotFound

log = logging.getLogger("hiraga.errors")

STATUS_ERRORS: dict[int, tuple[str, str]] = {
    404: ("not_found", "指定された URL は存在しません。"),
    405: ("method_not_allowed", "この URL ではそのメソッドは使えません。"),
    413: ("payload_too_large", "リクエストが大きすぎます。"),
}
OUT_OF_RANGE = ("less_than_equal", "greater_than_equal")
OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_exceeded",
    502: "api_error",
    503: "api_error",
}


def error_body(error: HiragaError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "detail": error.detail}}


def openai_error_body(error: HiragaError) -> dict[str, Any]:
    param = error.detail.get("field") if isinstance(error.detail, dict) else None
    return {
        "error": {
            "message": error.message,
            "type": OPENAI_TYPES.get(error.status, "api_error"),
            "param": param,
            "code": error.code,
        }
    }


def render(request: Request, error: HiragaError) -> Response:
    path = request.url.path
    if path.startswith("/v1/") or path == "/v1":
        return JSONResponse(openai_error_body(error), status_code=error.status, headers=error.headers)
    if path.startswith("/gennai/"):  # the Gennai AI-app protocol: {"error": "<message>"}
        body = {"error": error.message, "code": error.code}
        return JSONResponse(body, status_code=error.status, headers=error.headers)
    if _wants_html(request):
        ctx = request.app.state.ctx
        html = ctx.templates.get_template("error.html").render(
            error=error,
            _=getattr(request.state, "translate", lambda s: s),
            principal=None,
            lang=getattr(request.state, "lang", "ja"),
            csrf_token="",
        )
        return HTMLResponse(html, status_code=error.status, headers=error.headers)
    return JSONResponse(error_body(error), status_code=error.status, headers=error.headers)


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/v1", "/healthz", "/readyz", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def names_nothing(exc: RequestValidationError) -> bool:
    """A path id beyond what the database holds cannot name anything: the URL does not exist (404).
    (A path id that is not a number at all stays a 400 naming the field.)"""
    return any(
        tuple(item.get("loc", ()))[:1] == ("path",) and item.get("type") in OUT_OF_RANGE for item in exc.errors()
    )


def validation_error(exc: RequestValidationError) -> InvalidInput:
    problems = []
    for item in exc.errors():
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        if item.get("type") == "json_invalid":
            loc = []  # the location is a character offset, not a field
        problems.append({"field": ".".join(loc) or None, "problem": item.get("type"), "reason": item.get("msg")})
    first = problems[0]["field"] if problems else None
    message = f"入力項目「{first}」の値が正しくありません。" if first else "リクエストの形式が正しくありません。"
    if any(p["problem"] == "json_invalid" for p in problems):
        message = "JSON の形式が正しくありません。"
    return InvalidInput(message, code="invalid_input", detail={"field": first, "problems": problems})


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (each method is its own route, so the route
    that refused the request knows only its own)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(request.url.path):
            methods |= set(route.methods or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    async def on_hiraga_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HiragaError)
        if exc.status >= 500:
            log.error("%s: %s", exc.code, exc.message)
        return render(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if names_nothing(exc):
            code, message = STATUS_ERRORS[404]
            return render(request, NotFound(message, code=code))
        return render(request, validation_error(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code, message = STATUS_ERRORS.get(exc.status_code, ("http_error", "リクエストを処理できませんでした。"))
        error = NotFound(message, code=code) if exc.status_code == 404 else HiragaError(message, code=code)
        error.status = exc.status_code
        error.headers = dict(exc.headers or {})
        if exc.status_code == 405:
            error.headers["Allow"] = ", ".join(allowed_methods(request))
        return render(request, error)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render(request, HiragaError())

    app.add_exception_handler(HiragaError, on_hiraga_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
