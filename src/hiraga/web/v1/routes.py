"""``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/rerank`` and ``/v1/models``: authenticate with the API key,
validate, build the ModelCall, hand it to the gateway. Nothing else happens here."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hiraga.errors import Forbidden, InvalidInput, UnsupportedMediaType
from hiraga.gateway.platform_policy import PlatformPolicy
from hiraga.gateway.principals import PrincipalCache
from hiraga.gateway.protocol import (
    CLASSIFICATION_HEADER,
    TEAM_HEADER,
    ChatCompletionRequest,
    EmbeddingsRequest,
    RerankRequest,
    classification_of,
    estimate_tokens,
    parse_json_object,
    upstream_body,
    validated,
)
from hiraga.gateway.service import Gateway, input_estimate
from hiraga.identity.principal import Principal
from hiraga.spine.call import ModelCall
from hiraga.web.context import AppContext
from hiraga.web.deps import client_address
from hiraga.web.v1.answers import JsonAnswer, StreamAnswer


def _context(request: Request) -> tuple[AppContext, Gateway, PrincipalCache]:
    ctx: AppContext = request.app.state.ctx
    return ctx, ctx.extras["gateway"], ctx.extras["gateway_principals"]


def _team(request: Request, principal: Principal) -> int | None:
    value = request.headers.get(TEAM_HEADER)
    if value is None:
        teams = principal.team_ids
        return next(iter(teams)) if len(teams) == 1 else None
    if not value.isdigit():
        raise InvalidInput(f"{TEAM_HEADER} にはチーム ID（数字）を指定してください。", detail={"field": TEAM_HEADER})
    if int(value) not in principal.team_ids:
        raise Forbidden("指定されたチームのメンバーではありません。", detail={"field": TEAM_HEADER})
    return int(value)


async def _call(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    kind: str,
    model: str,
    metadata: dict[str, Any] | None,
    stream: bool = False,
) -> ModelCall:
    policy: PlatformPolicy = ctx.extras["platform_policy"]
    default = await policy.default_classification()  # the administrators' default, when none is given
    return ModelCall(
        principal=principal,
        kind=kind,
        requested_model=model,
        stream=stream,
        classification=classification_of(request.headers.get(CLASSIFICATION_HEADER), metadata, default),
        team_id=_team(request, principal),
    )


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; a body of another media type (``text/plain``, the one a cross-site
    form can send without asking) is refused before it is read as JSON."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    if kind != "application" or (subtype != "json" and not subtype.endswith("+json")):
        raise UnsupportedMediaType(detail={"content_type": media_type or None})
    return parse_json_object(await request.body())


async def chat_completions(request: Request) -> Any:
    ctx, gateway, principals = _context(request)
    principal = await principals.authenticate(request.headers.get("authorization"), client_address(request))
    body = await json_body(request)
    params = validated(ChatCompletionRequest, body)
    call = await _call(request, ctx, principal, "chat", params.model, params.metadata, stream=params.stream)
    call.estimated_input_tokens = input_estimate(body)
    call.max_output_tokens = params.max_completion_tokens or params.max_tokens
    forward = upstream_body(body)
    if params.stream:
        return StreamAnswer(lambda sink: gateway.stream_chat(call, forward, sink))
    return JsonAnswer(lambda: gateway.chat(call, forward))


async def embeddings(request: Request) -> Any:
    ctx, gateway, principals = _context(request)
    principal = await principals.authenticate(request.headers.get("authorization"), client_address(request))
    body = await json_body(request)
    params = validated(EmbeddingsRequest, body)
    call = await _call(request, ctx, principal, "embeddings", params.model, params.metadata)
    texts = [params.input] if isinstance(params.input, str) else params.input
    call.estimated_input_tokens = sum(estimate_tokens(t) if isinstance(t, str) else 1 for t in texts)
    forward = upstream_body(body)
    return JsonAnswer(lambda: gateway.embeddings(call, forward))


async def rerank(request: Request) -> Any:
    ctx, gateway, principals = _context(request)
    principal = await principals.authenticate(request.headers.get("authorization"), client_address(request))
    body = await json_body(request)
    params = validated(RerankRequest, body)
    call = await _call(request, ctx, principal, "rerank", params.model, params.metadata)
    call.estimated_input_tokens = input_estimate(body)
    forward = upstream_body(body)
    return JsonAnswer(lambda: gateway.rerank(call, forward))


async def list_models(request: Request) -> Response:
    _, gateway, principals = _context(request)
    principal = await principals.authenticate(request.headers.get("authorization"), client_address(request))
    models = await gateway.models(principal)
    return Response(orjson.dumps(models.model_dump()), media_type="application/json")


async def get_model(request: Request) -> Response:
    _, gateway, principals = _context(request)
    principal = await principals.authenticate(request.headers.get("authorization"), client_address(request))
    wanted = request.path_params["model"]
    for card in (await gateway.models(principal)).data:
        if card.id == wanted:
            return Response(orjson.dumps(card.model_dump()), media_type="application/json")
    from hiraga.spine.route import ModelNotFound

    raise ModelNotFound(f"モデル「{wanted}」が見つからないか、利用が許可されていません。", detail={"field": "model"})


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/rerank", rerank, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
    ]
