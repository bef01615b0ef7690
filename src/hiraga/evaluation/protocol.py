"""Wire models of the evaluation API (/api/v1/eval): strict requests, plain responses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hiraga.bounds import RowId
from hiraga.evaluation.runs import MAX_CONCURRENCY

NAME = r"^[A-Za-z0-9._:-]{1,100}$"


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SuiteInfo(Response):
    name: str
    title: str
    task: str
    version: str


class RunCreate(Request):
    suite: str = Field(pattern=NAME, description="スイート名、または非公開セットの set:<ID>")
    model: str = Field(min_length=1, max_length=200)
    limit: int | None = Field(default=None, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    concurrency: int = Field(default=4, ge=1, le=MAX_CONCURRENCY)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=16, le=32768)
    cost_cap_jpy: Decimal | None = Field(default=None, ge=0, le=10**9)
    team_id: RowId | None = None
    classification: int = Field(default=1, ge=1, le=3)


class Run(Response):
    id: int
    suite: str
    suite_version: str
    set_id: int | None
    model: str
    team_id: int | None
    classification: int
    seed: int
    item_limit: int | None
    concurrency: int
    temperature: float
    max_tokens: int
    cost_cap_jpy: Decimal | None
    state: str
    error_code: str | None
    error_message: str | None
    items_done: int
    items_failed: int
    cost_jpy: Decimal
    created_at: datetime
    finished_at: datetime | None


class Result(Response):
    item_id: str
    ordinal: int
    prompt: str
    reference: str | None
    output: str
    score: float | None
    detail_json: str
    error_code: str | None
    endpoint_name: str | None
    latency_ms: float


class BoardRow(Response):
    suite: str
    suite_version: str
    model: str
    run_id: int
    items: int
    failed: int
    score: float
    low: float
    high: float
    cost_per_1000_jpy: Decimal
    latency_p50_ms: float
    latency_p95_ms: float


class Comparison(Response):
    suite: str
    run_a: int
    run_b: int
    common_items: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    regression: bool
    worse_items: list[str]


class PairwiseVerdict(BaseModel):
    item: str
    ab: str | None = Field(description="A を先に示したときの判定（A・B・引き分け）")
    ba: str | None = Field(description="B を先に示したときの判定")
    outcome: float | None = Field(description="B から見た結果: 1 勝ち、0.5 引き分け、0 負け、null 判定不能")


class Pairwise(Response):
    id: int
    suite: str
    run_a: int
    run_b: int
    judge_model: str
    judge_version: str
    items: int
    b_wins: int
    ties: int
    a_wins: int
    position_bias: int
    judge_errors: int
    b_win_rate: float
    low: float
    high: float
    verdicts: list[PairwiseVerdict]
    created_at: datetime | None


class EvalSet(Response):
    id: int
    team_id: int
    name: str
    description: str
    classification: int
    item_count: int
    created_at: datetime


class ArenaToggle(Request):
    enabled: bool


class BattleCreate(Request):
    team_id: RowId
    prompt: str = Field(min_length=1, max_length=8000)
    task: str = Field(default="chat", pattern=r"^[a-z_-]{1,32}$")
    classification: int = Field(default=1, ge=1, le=3)


class Battle(Response):
    """Shown anonymously until the vote: the models only come back with the verdict."""

    id: int
    prompt: str
    answer_a: str
    answer_b: str
    winner: str | None = None
    model_a: str | None = None
    model_b: str | None = None


class Vote(Request):
    winner: Literal["a", "b", "tie"]


class Rating(Response):
    model: str
    rating: float
    low: float
    high: float
    battles: int


class RouteSet(Request):
    task: str = Field(pattern=r"^[a-z_-]{1,32}$")
    alias: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    max_cost_per_1000_jpy: Decimal | None = Field(default=None, ge=0, le=10**9)
    pin: str | None = Field(default=None, max_length=100)
