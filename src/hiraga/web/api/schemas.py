"""Wire models of the JSON REST API under /api/v1: what requests may carry and what responses show.

Requests are strict (no silent type coercion, unknown fields refused); responses never carry
password hashes or key digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hiraga.bounds import DbInt, RowId
from hiraga.store.tables import TeamRole


class Request(BaseModel):
    """Strict: ``"1"`` is not an id and ``"yes"`` is not a boolean (enums are read from their values)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- errors ---------------------------------------------------------------------------------------
class ErrorInfo(BaseModel):
    code: str = Field(description="安定したエラーコード（例: invalid_input, forbidden）")
    message: str = Field(description="日本語のメッセージ")
    detail: Any = Field(default=None, description="補足情報（入力項目名など）")


class ErrorBody(BaseModel):
    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "入力内容に誤りがあります",
        401: "ログインまたは有効な API キーが必要です",
        403: "権限がありません（CSRF トークンの不足を含む）",
        404: "見つかりません（見えないチームの ID を含む）",
        409: "既に存在します",
        413: "リクエストが大きすぎます",
    }.items()
}


# -- organisations and teams ------------------------------------------------------------------------
class OrganisationCreate(Request):
    name: str = Field(max_length=200, description="組織名（省庁・自治体・企業）")


class Organisation(Response):
    id: int
    name: str
    created_at: datetime


class TeamCreate(Request):
    organisation_id: RowId
    name: str = Field(max_length=200, description="チーム名（課・室）")


class Team(Response):
    id: int
    organisation_id: int
    name: str
    created_at: datetime


class MembershipUpdate(Request):
    role: TeamRole = Field(strict=False, description="admin（チーム管理者）または member")


class Member(Response):
    user_id: int
    team_id: int
    role: TeamRole
    email: str
    display_name: str
    created_at: datetime


# -- users ------------------------------------------------------------------------------------------
class UserCreate(Request):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024, description="パスワードポリシーを満たすもの")
    display_name: str = Field(default="", max_length=200)
    is_system_admin: bool = False
    is_auditor: bool = False
    team_id: RowId | None = Field(default=None, description="所属させるチーム（チーム管理者は必須）")
    team_role: TeamRole = Field(default=TeamRole.MEMBER, strict=False)


class UserUpdate(Request):
    is_system_admin: bool | None = None
    is_auditor: bool | None = None
    is_active: bool | None = None


class User(Response):
    id: int
    email: str
    display_name: str
    is_system_admin: bool
    is_auditor: bool
    is_active: bool
    created_at: datetime


# -- the caller -------------------------------------------------------------------------------------
class MyTeam(BaseModel):
    team_id: int
    team_name: str
    organisation_id: int
    organisation_name: str
    role: TeamRole


class Me(BaseModel):
    user: User
    authenticated_via: Literal["session", "api_key"]
    api_key_id: int | None
    roles: list[str] = Field(description="system_admin / auditor / team_admin / member")
    teams: list[MyTeam]


class ApiKeyCreate(Request):
    name: str = Field(max_length=100)
    expires_days: DbInt | None = Field(default=None, description="有効日数（省略時は既定値）")


class ApiKey(Response):
    id: int
    name: str
    prefix: str = Field(description="キーの先頭部分（見分けるため）")
    state: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedApiKey(ApiKey):
    secret: str = Field(description="API キー本体。この応答でのみ表示されます")
