"""Security events in the audit chain: refused credentials and administrators' changes.

The services that make a change (identity, gateway registry, usage limits) call ``record`` with the
caller's Principal, inside their own transaction: the change and its audit record commit together
or not at all, whether the API, a page or the CLI asked for it. Refusals of credentials are written
and committed before the refusal is raised (``record_refusal``), so they stay when the request's
work is rolled back. Every record says who (``actor_*``, ``via``, ``api_key_id``), what (``action``,
``model`` = the object's name, ``team_id``, ``detail``), from where (``client_address``) and the
outcome (``outcome``, ``error_code``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from hiraga.audit.chain import append
from hiraga.identity.principal import Principal

SOURCE = "security"

LOGIN_REFUSED = "login_refused"
API_KEY_REFUSED = "api_key_refused"
USER_CREATED = "user_created"
USER_ROLES_CHANGED = "user_roles_changed"
TEAM_ROLE_SET = "team_role_set"
TEAM_MEMBER_REMOVED = "team_member_removed"
API_KEY_CREATED = "api_key_created"
API_KEY_REVOKED = "api_key_revoked"
LIMIT_CREATED = "limit_created"
LIMIT_CHANGED = "limit_changed"
LIMIT_REMOVED = "limit_removed"
ENDPOINT_CREATED = "endpoint_created"
ENDPOINT_CHANGED = "endpoint_changed"
ENDPOINT_REMOVED = "endpoint_removed"
ALIAS_SET = "alias_set"
ALIAS_REMOVED = "alias_removed"
# single sign-on and SCIM provisioning (hiraga.identity.sso)
SSO_LOGIN = "sso_login"
SSO_LOGIN_REFUSED = "sso_login_refused"
LOGOUT = "logout"
SSO_MEMBERSHIPS_SYNCED = "sso_memberships_synced"
SSO_PROVIDER_CREATED = "sso_provider_created"
SSO_PROVIDER_CHANGED = "sso_provider_changed"
SSO_PROVIDER_REMOVED = "sso_provider_removed"
SSO_RULE_CREATED = "sso_rule_created"
SSO_RULE_REMOVED = "sso_rule_removed"
SCIM_TOKEN_CREATED = "scim_token_created"
SCIM_TOKEN_REVOKED = "scim_token_revoked"
SCIM_REFUSED = "scim_refused"
SCIM_USER_CREATED = "scim_user_created"
SCIM_USER_UPDATED = "scim_user_updated"
SCIM_USER_DEACTIVATED = "scim_user_deactivated"
SCIM_USER_DELETED = "scim_user_deleted"
SCIM_GROUP_CREATED = "scim_group_created"
SCIM_GROUP_UPDATED = "scim_group_updated"
SCIM_GROUP_DELETED = "scim_group_deleted"
DATASET_POLICY_SET = "dataset_policy_set"
DATASET_OPT_OUT_SET = "dataset_opt_out_set"
DATASET_ITEM_REVIEWED = "dataset_item_reviewed"
DATASET_ITEMS_BULK_APPROVED = "dataset_items_bulk_approved"
DATASET_ITEM_WITHDRAWN = "dataset_item_withdrawn"
DATASET_EXPORTED = "dataset_exported"
EVAL_SET_UPLOADED = "eval_set_uploaded"
EVAL_SET_REMOVED = "eval_set_removed"
EVAL_RUN_STARTED = "eval_run_started"
EVAL_RUN_CANCELLED = "eval_run_cancelled"
EVAL_ROUTE_SET = "eval_route_set"


def event_row(
    action: str,
    actor: Principal | None,
    *,
    subject: str | None = None,
    team_id: int | None = None,
    detail: dict[str, Any] | None = None,
    outcome: str = "ok",
    error_code: str | None = None,
    client_address: str | None = None,
    source: str = SOURCE,
) -> dict[str, Any]:
    """One audit row; ``actor`` None for an unidentified caller (a refused credential)."""
    return {
        "occurred_at": datetime.now(UTC),
        "action": action,
        "request_id": uuid.uuid4().hex,
        "actor_user_id": (actor.user_id or None) if actor else None,
        "actor_email": actor.email if actor else None,
        "via": actor.via if actor else None,
        "api_key_id": actor.api_key_id if actor else None,
        "client_address": (client_address or (actor.client_address if actor else None) or None),
        "team_id": team_id,
        "model": subject[:200] if subject else None,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_jpy": 0,
        "outcome": outcome,
        "error_code": error_code,
        "source": source,
        "detail": json.dumps(detail or {}, ensure_ascii=False, separators=(",", ":"), default=str)[:4000],
    }


def record(db: Session, action: str, actor: Principal, **facts: Any) -> None:
    """An administrator's change, in the caller's transaction (commits with the change)."""
    append(db.connection(), [event_row(action, actor, **facts)])


def record_refusal(db: Session, row: dict[str, Any]) -> None:
    """A refused credential: appended and committed now, before the refusal is raised."""
    append(db.connection(), [row])
    db.commit()
