"""/api/v1/kouyoubun: 公用文チェック (rule-based findings; optional model suggestions marked as such)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.kouyoubun import service
from hiraga.kouyoubun.model_pass import GatewayModelPass
from hiraga.kouyoubun.protocol import CheckRequest, CheckResponse
from hiraga.spine.call import Classification, ModelCall
from hiraga.web.api.schemas import ERROR_RESPONSES
from hiraga.web.deps import CurrentPrincipal, app_context

router = APIRouter(prefix="/api/v1/kouyoubun", tags=["公用文チェック"], responses=ERROR_RESPONSES)


@router.post("/check", summary="公用文の書き方をチェックする（規則に基づく指摘。任意でモデルの提案）")
async def check_text(body: CheckRequest, principal: CurrentPrincipal, request: Request) -> CheckResponse:
    model_pass = _model_pass(request, principal, body.model) if body.model else None
    return await service.run_check(body, model_pass)


def _model_pass(request: Request, principal: Principal, model: str) -> GatewayModelPass:
    ctx = app_context(request)
    gateway: Gateway = ctx.extras["gateway"]
    teams = principal.team_ids
    call = ModelCall(
        principal=principal,
        kind="chat",
        requested_model=model,
        source="app:公用文チェック",
        classification=Classification(ctx.settings.default_classification),
        team_id=next(iter(teams)) if len(teams) == 1 else None,
    )
    return GatewayModelPass(lambda chat_body: gateway.chat(call, chat_body), model)
