"""/api/v1/organisations: ministries, municipalities and companies."""

from __future__ import annotations

from fastapi import APIRouter

from hiraga.bounds import RowId
from hiraga.identity import directory
from hiraga.web.api import schemas
from hiraga.web.deps import DbSession, Scope, SystemAdminScope

router = APIRouter(prefix="/api/v1/organisations", tags=["組織"], responses=schemas.ERROR_RESPONSES)


@router.get("", summary="組織の一覧（見える範囲のみ）")
def list_organisations(db: DbSession, scope: Scope) -> list[schemas.Organisation]:
    return [schemas.Organisation.model_validate(o) for o in directory.list_organisations(db, scope)]


@router.post("", status_code=201, summary="組織の作成（システム管理者）")
def create_organisation(
    body: schemas.OrganisationCreate, db: DbSession, scope: SystemAdminScope
) -> schemas.Organisation:
    return schemas.Organisation.model_validate(directory.create_organisation(db, scope, body.name))


@router.get("/{organisation_id}", summary="組織の取得")
def get_organisation(organisation_id: RowId, db: DbSession, scope: Scope) -> schemas.Organisation:
    return schemas.Organisation.model_validate(directory.get_organisation(db, scope, organisation_id))
