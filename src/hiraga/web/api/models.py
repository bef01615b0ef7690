"""/api/v1/models: the model registry (endpoints and aliases) for system administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import (
    AliasSet,
    AliasView,
    EndpointCreate,
    EndpointTestResult,
    EndpointUpdate,
    EndpointView,
)
from hiraga.gateway.service import Gateway
from hiraga.web.api import schemas
from hiraga.web.deps import DbSession, Scope, SystemAdminScope, app_context

router = APIRouter(prefix="/api/v1/models", tags=["モデル"], responses=schemas.ERROR_RESPONSES)


def gateway(request: Request) -> Gateway:
    found: Gateway = app_context(request).extras["gateway"]
    return found


def rules(request: Request) -> registry.RegistryRules:
    found: registry.RegistryRules = app_context(request).extras["gateway_rules"]
    return found


CurrentGateway = Annotated[Gateway, Depends(gateway)]
Rules = Annotated[registry.RegistryRules, Depends(rules)]


def _changed(db: Session, gw: Gateway) -> None:
    db.commit()
    gw.catalog.invalidate()


@router.get("", summary="モデル接続先の一覧（システム管理者）")
def list_endpoints(db: DbSession, scope: Scope) -> list[EndpointView]:
    return [registry.view(db, row) for row in registry.list_endpoints(db, scope)]


@router.post("", status_code=201, summary="モデル接続先の登録（システム管理者）")
def create_endpoint(
    body: EndpointCreate, db: DbSession, scope: SystemAdminScope, gw: CurrentGateway, rl: Rules
) -> EndpointView:
    row = registry.create_endpoint(db, scope, body, rl)
    _changed(db, gw)
    return registry.view(db, row)


@router.get("/aliases", summary="別名（エイリアス）の一覧")
def list_aliases(db: DbSession, scope: Scope) -> list[AliasView]:
    scope.require_system_admin()
    return registry.list_aliases(db)


@router.put("/aliases/{name:path}", summary="別名の設定（接続先と優先度の置き換え）")
def put_alias(name: str, body: AliasSet, db: DbSession, scope: SystemAdminScope, gw: CurrentGateway) -> AliasView:
    result = registry.set_alias(db, scope, name, body.members)
    _changed(db, gw)
    return result


@router.delete("/aliases/{name:path}", status_code=204, response_class=Response, summary="別名の削除")
def delete_alias(name: str, db: DbSession, scope: Scope, gw: CurrentGateway) -> None:
    registry.delete_alias(db, scope, name)
    _changed(db, gw)


@router.get("/{endpoint}", summary="モデル接続先の取得")
def get_endpoint(endpoint: str, db: DbSession, scope: Scope) -> EndpointView:
    scope.require_system_admin()
    return registry.view(db, registry.find_endpoint(db, endpoint))


@router.patch("/{endpoint}", summary="モデル接続先の変更")
def update_endpoint(
    endpoint: str, body: EndpointUpdate, db: DbSession, scope: SystemAdminScope, gw: CurrentGateway, rl: Rules
) -> EndpointView:
    row = registry.update_endpoint(db, scope, endpoint, body, rl)
    _changed(db, gw)
    return registry.view(db, row)


@router.delete("/{endpoint}", status_code=204, response_class=Response, summary="モデル接続先の削除")
def delete_endpoint(endpoint: str, db: DbSession, scope: Scope, gw: CurrentGateway) -> None:
    registry.delete_endpoint(db, scope, endpoint)
    _changed(db, gw)


@router.post("/{endpoint}/test", summary="接続テスト（短い問い合わせを 1 回送る）")
async def test_endpoint(endpoint: str, scope: Scope, gw: CurrentGateway) -> EndpointTestResult:
    scope.require_system_admin()
    return await gw.probe(endpoint)
