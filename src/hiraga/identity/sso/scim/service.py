"""Serve one SCIM request: authenticate the bearer token (a refusal is audited), hand the request to
scim2-server's handler over the directory storage, and turn any failure into a SCIM error response
(never a 500 for bad input). Users (with the enterprise extension) and Groups; PATCH, filters and
sorting; no bulk, no ETags, no password changes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

from pydantic import EmailStr
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Email,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Patch,
    Required,
    ResourceType,
    SCIMException,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    UnauthorizedException,
    User,
)
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation
from scim2_server.service import ScimService
from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.identity.principal import Principal
from hiraga.identity.sso.scim import tokens
from hiraga.identity.sso.scim.storage import DirectoryStorage
from hiraga.store.tables import ScimToken

log = logging.getLogger(__name__)
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_RESULTS = 200


class DirectoryEmail(Email):
    value: Annotated[EmailStr | None, Required.true] = None


class DirectoryUser(User[Any]):
    """RFC 7643's User, except that hiraga needs an e-mail address: ``emails`` (with a value) is required."""

    emails: Annotated[list[DirectoryEmail] | None, Required.true] = None  # type: ignore[assignment]


@lru_cache(maxsize=1)
def scim_service() -> ScimService:
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="hiraga の SCIM トークン（hiraga sso scim-token create で発行）",
                primary=True,
            )
        ],
    )
    user_type = ResourceType.from_resource(DirectoryUser[EnterpriseUser])  # type: ignore[misc]
    provider = ScimProvider(
        models=[DirectoryUser, EnterpriseUser, Group],
        resource_types=[user_type, ResourceType.from_resource(Group)],
        config=config,
    )
    return ScimService(provider)


def serve(db: Session, request: ScimRequest, *, client_address: str, break_glass: list[str]) -> ScimResponse:
    """The response to one request; the caller commits the session when the status is below 400."""
    service = scim_service()
    try:
        operation = service.match(request).operation
        actor = None
        if operation is not Operation.service_provider_config:
            row = _authenticate(db, request, client_address)
            row.last_used_at = datetime.now(UTC)
            actor = tokens.actor_for(row, client_address)
        storage = DirectoryStorage(db, service.provider, actor or _anonymous(), break_glass)
        response = ScimHandler(service, storage).handle(request)
    except SCIMException as error:
        db.rollback()
        response = service.error_response(error)
    except Exception:  # a bug: logged with its traceback, answered as a SCIM error, nothing kept
        db.rollback()
        log.exception("SCIM request failed: %s %s", request.method, request.path)
        body = {"schemas": [ERROR_SCHEMA], "status": "500", "detail": "Internal error"}
        response = ScimResponse(HTTPStatus.INTERNAL_SERVER_ERROR, body)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _authenticate(db: Session, request: ScimRequest, client_address: str) -> ScimToken:
    scheme, _, secret = (request.header("Authorization") or "").partition(" ")
    row = tokens.find_active(db, secret.strip()) if scheme.lower() == "bearer" else None
    if row is None:
        presented = secret.strip()[:11] if scheme.lower() == "bearer" and secret.strip() else None
        audit_row = events.event_row(
            events.SCIM_REFUSED,
            None,
            subject=presented,
            detail={"reason": "invalid_token" if presented else "no_token", "path": request.path[:200]},
            outcome="refused",
            error_code="scim_unauthorized",
            client_address=client_address,
            source="scim",
        )
        events.record_refusal(db, audit_row)
        raise UnauthorizedException(detail="A valid SCIM bearer token is required.")
    return row


def _anonymous() -> Principal:
    return Principal(user_id=0, email="scim:anonymous", display_name="SCIM", via="scim")
