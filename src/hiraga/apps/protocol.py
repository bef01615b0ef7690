"""Wire models of the Gennai AI-app protocol, both as hiraga calls apps and as it serves its own.

Lenient when reading what an app sends (extra keys ignored; ``contents`` accepted for
``artifacts``), exact when writing. See docs/gennai-protocol.md for the shapes hiraga fixed where
the public material is silent.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class FileContent(Wire):
    filename: str = Field(max_length=255)
    content: str = Field(description="base64")


class FileGroup(Wire):
    key: str = Field(description="フォーム定義のファイル項目名")
    files: list[FileContent] = Field(default_factory=list)


class ChatTurn(Wire):
    role: str
    content: str


class AppCall(Wire):
    """The body of ``POST <endpoint>``: ``{"inputs": {...}}``; files travel as ``inputs.files``
    (a top-level ``files`` is accepted too when hiraga serves its own apps)."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    files: list[FileGroup] | None = None


class TokenCount(Wire):
    input_tokens: int = Field(default=0, validation_alias=AliasChoices("inputTokens", "input_tokens"))
    output_tokens: int = Field(default=0, validation_alias=AliasChoices("outputTokens", "output_tokens"))
    total_tokens: int | None = Field(default=None, validation_alias=AliasChoices("totalTokens", "total_tokens"))


class CostInfo(Wire):
    estimated_cost: Decimal = Field(
        default=Decimal(0), validation_alias=AliasChoices("estimatedCost", "estimated_cost")
    )
    currency: str = "JPY"


class UsageEntry(Wire):
    """One model's share of a run."""

    model_version: str = Field(default="unknown", validation_alias=AliasChoices("modelVersion", "model_version"))
    request_count: int = Field(default=1, validation_alias=AliasChoices("requestCount", "request_count"))
    tokens: TokenCount = Field(default_factory=TokenCount)
    estimated_cost_info: CostInfo | None = Field(
        default=None, validation_alias=AliasChoices("estimatedCostInfo", "estimated_cost_info")
    )

    def wire(self) -> dict[str, Any]:
        tokens = self.tokens
        total = tokens.total_tokens if tokens.total_tokens is not None else tokens.input_tokens + tokens.output_tokens
        entry: dict[str, Any] = {
            "modelVersion": self.model_version,
            "requestCount": self.request_count,
            "tokens": {"inputTokens": tokens.input_tokens, "outputTokens": tokens.output_tokens, "totalTokens": total},
        }
        if self.estimated_cost_info is not None:
            cost = self.estimated_cost_info
            entry["estimatedCostInfo"] = {"estimatedCost": float(cost.estimated_cost), "currency": cost.currency}
        return entry


class Artifact(Wire):
    display_name: str = Field(default="artifact", validation_alias=AliasChoices("display_name", "displayName", "name"))
    content: str = Field(description="base64")


class AppAnswer(Wire):
    """``200 {"outputs", "usageMetadata", "artifacts"}`` (``contents`` read as ``artifacts``)."""

    outputs: str
    usage_metadata: list[UsageEntry] = Field(
        default_factory=list, validation_alias=AliasChoices("usageMetadata", "usage_metadata")
    )
    artifacts: list[Artifact] = Field(default_factory=list, validation_alias=AliasChoices("artifacts", "contents"))

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"outputs": self.outputs, "usageMetadata": [u.wire() for u in self.usage_metadata]}
        if self.artifacts:
            body["artifacts"] = [{"display_name": a.display_name, "content": a.content} for a in self.artifacts]
        return body


class JobStatus(enum.StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"


class Accepted(Wire):
    """``202 {"status_url", "request_id"}``."""

    status_url: str
    request_id: str = ""


class JobState(Wire):
    """``GET status_url`` → ``{"status", ...}``; with COMPLETED the answer's fields, with ERROR ``error``."""

    status: JobStatus
    request_id: str = ""
    outputs: str | None = None
    usage_metadata: list[UsageEntry] = Field(
        default_factory=list, validation_alias=AliasChoices("usageMetadata", "usage_metadata")
    )
    artifacts: list[Artifact] = Field(default_factory=list, validation_alias=AliasChoices("artifacts", "contents"))
    error: str | None = None
    progress: str | None = None


def error_message(body: Any) -> str | None:
    """The ``error`` of ``{"error": "..."}`` (or of hiraga's ``{"error": {"message"}}``)."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return None
