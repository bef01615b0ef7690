"""Wire schemas of the model-registry admin API (``/api/v1/models``) and ``hiraga models``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from hiraga.bounds import RowId
from hiraga.gateway.protocol import MAX_CONTEXT_TOKENS

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$"
PiiPolicyName = Literal["mask", "block", "allow"]
TagText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class EndpointFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(default="", max_length=500)
    base_url: str = Field(default="", max_length=500)
    upstream_model: str = Field(default="", max_length=200)
    api_version: str | None = Field(default=None, max_length=40)
    model_path: str | None = Field(default=None, max_length=1000)
    context_window: int = Field(default=4096, ge=256, le=MAX_CONTEXT_TOKENS)
    price_input_per_1k: Decimal = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=4)
    price_output_per_1k: Decimal = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=4)
    clearance: int = Field(default=1, ge=1, le=3)
    external: bool = True
    pii_policy: PiiPolicyName = "mask"  # personal data sent to an external endpoint: mask, block or allow
    all_teams: bool = False
    team_ids: list[RowId] = Field(default_factory=list, max_length=1000)
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_concurrent: int = Field(default=0, ge=0, le=100_000)
    tags: list[TagText] = Field(default_factory=list, max_length=20)
    enabled: bool = True


class EndpointCreate(EndpointFields):
    name: str = Field(pattern=NAME_PATTERN)
    provider: str = Field(default="openai", min_length=1, max_length=50)
    kind: Literal["chat", "embeddings", "rerank"] = "chat"
    api_key: SecretStr | None = None
    aliases: list[Annotated[str, StringConstraints(pattern=NAME_PATTERN)]] = Field(default_factory=list, max_length=20)


class EndpointUpdate(BaseModel):
    """Only the fields present are changed. ``api_key: ""`` removes the stored key."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=500)
    base_url: str | None = Field(default=None, max_length=500)
    upstream_model: str | None = Field(default=None, max_length=200)
    api_version: str | None = Field(default=None, max_length=40)
    api_key: SecretStr | None = None
    context_window: int | None = Field(default=None, ge=256, le=MAX_CONTEXT_TOKENS)
    price_input_per_1k: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=4)
    price_output_per_1k: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=4)
    clearance: int | None = Field(default=None, ge=1, le=3)
    external: bool | None = None
    pii_policy: PiiPolicyName | None = None
    all_teams: bool | None = None
    team_ids: list[RowId] | None = Field(default=None, max_length=1000)
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600)
    max_concurrent: int | None = Field(default=None, ge=0, le=100_000)
    tags: list[TagText] | None = Field(default=None, max_length=20)
    enabled: bool | None = None


class EndpointView(BaseModel):
    """What an admin sees. The upstream API key is never returned, only whether one is stored."""

    id: int
    name: str
    description: str
    provider: str
    kind: str
    base_url: str
    upstream_model: str
    api_version: str | None
    model_path: str | None
    has_api_key: bool
    context_window: int
    price_input_per_1k: Decimal
    price_output_per_1k: Decimal
    clearance: int
    external: bool
    pii_policy: str
    all_teams: bool
    team_ids: list[int]
    timeout_seconds: float
    max_concurrent: int
    tags: list[str]
    enabled: bool
    aliases: list[str]
    created_at: datetime
    updated_at: datetime


class AliasMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(min_length=1, max_length=100)
    priority: int = Field(default=0, ge=0, le=1000)


class AliasSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[AliasMember] = Field(min_length=1, max_length=50)


class AliasView(BaseModel):
    name: str
    members: list[AliasMember]


class EndpointTestResult(BaseModel):
    ok: bool
    endpoint: str
    latency_ms: float
    reply: str = ""
    error: str | None = None
