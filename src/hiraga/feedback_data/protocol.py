"""Wire models of /api/v1/feedback-datasets. Requests are strict; items are shown scrubbed only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hiraga.feedback_data.categories import API_HELP
from hiraga.feedback_data.policy import Policy
from hiraga.portal.protocol import FeedbackCreate
from hiraga.store.tables import DatasetItem

MAX_TEXT = 100_000


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ChatMessage(Request):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_TEXT)


class PolicyUpdate(Request):
    training_use: bool
    max_classification: int = Field(default=1, ge=1, le=3)
    licence: str = Field(default="", max_length=200)


class PolicyView(BaseModel):
    team_id: int
    training_use: bool
    max_classification: int
    licence: str
    description: str

    @classmethod
    def of(cls, policy: Policy) -> PolicyView:
        return cls(
            team_id=policy.team_id,
            training_use=policy.training_use,
            max_classification=policy.max_classification,
            licence=policy.licence,
            description=policy.describe(),
        )


class OptOut(Request):
    opted_out: bool


class OptOutResult(BaseModel):
    opted_out: bool
    items_withdrawn: int


class TaskOutputFeedback(Request):
    """Feedback on a task app's output, sent back with the receipt the portal gave with the output."""

    receipt: str = Field(min_length=64, max_length=64)
    task: str = Field(max_length=64)
    prompt: list[ChatMessage] = Field(min_length=1, max_length=200)
    answer: str = Field(max_length=MAX_TEXT)
    model_name: str = Field(max_length=200)
    endpoint: str = Field(default="", max_length=200)
    classification: int = Field(ge=1, le=3)
    answered_at: datetime = Field(strict=False)  # ISO 8601 text in JSON
    rating: Literal["good", "bad"]
    comment: str = Field(default="", max_length=20_000)
    corrected_answer: str = Field(default="", max_length=20_000)
    category: str = Field(default="", max_length=64, description=API_HELP)


class RunFeedback(FeedbackCreate):
    """Feedback on one of the caller's task-app runs (the prompt is taken from the run as kept): the
    same fields as the feedback on a chat reply."""


class RunFeedbackResult(BaseModel):
    run_id: int
    rating: str
    comment: str
    corrected_answer: str
    category: str
    category_inferred: bool

    @classmethod
    def of(cls, run_id: int, given: dict[str, str]) -> RunFeedbackResult:
        return cls(
            run_id=run_id,
            rating=given.get("rating", ""),
            comment=given.get("comment", ""),
            corrected_answer=given.get("corrected_answer", ""),
            category=given.get("category", ""),
            category_inferred=bool(given.get("category_inferred")),
        )


class ItemContent(Request):
    prompt: list[ChatMessage] = Field(min_length=1, max_length=200)
    answer: str = Field(default="", max_length=MAX_TEXT)
    corrected: str = Field(default="", max_length=MAX_TEXT)
    rejected: str = Field(default="", max_length=MAX_TEXT)
    comment: str = Field(default="", max_length=20_000)


class Review(Request):
    decision: Literal["approve", "reject", "edit"]
    content: ItemContent | None = None

    @model_validator(mode="after")
    def _edit_has_content(self) -> Review:
        if (self.decision == "edit") != (self.content is not None):
            raise ValueError("content is given with decision=edit, and only then")
        return self


class ItemView(BaseModel):
    id: int
    team_id: int
    source: str
    task: str
    model_name: str
    endpoint: str
    rejected_model: str
    classification: int
    rating: str
    category: str
    category_inferred: bool
    status: str
    edited: bool
    findings: dict[str, int]
    content: dict[str, Any]
    answered_at: datetime = Field(strict=False)  # ISO 8601 text in JSON
    reviewed_at: datetime | None

    @classmethod
    def of(cls, row: DatasetItem) -> ItemView:
        return cls(
            id=row.id,
            team_id=row.team_id,
            source=row.source,
            task=row.task,
            model_name=row.model_name,
            endpoint=row.endpoint,
            rejected_model=row.rejected_model,
            classification=row.classification,
            rating=row.rating,
            category=row.category,
            category_inferred=row.category_inferred,
            status=row.status,
            edited=row.edited,
            findings=json.loads(row.findings or "{}"),
            content=json.loads(row.content),
            answered_at=row.answered_at,
            reviewed_at=row.reviewed_at,
        )


class ItemState(BaseModel):
    id: int
    status: str


class BulkResult(BaseModel):
    approved: int


class WithdrawResult(BaseModel):
    items_withdrawn: int


class TaskRatesView(BaseModel):
    task: str
    good: int
    bad: int
    corrected: int
    preferred: int
    good_rate: float | None
    failures: dict[str, int] = Field(description="👎 の理由の分類ごとの件数（推定を含む）")
    inferred: dict[str, int] = Field(description="そのうちコメントからキーワード規則で推定した件数")
    uncategorised: int


class ModelReportView(BaseModel):
    model: str
    tasks: list[TaskRatesView]
    complaints: list[str]
