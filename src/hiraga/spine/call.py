"""The value that travels down the spine for one model call, and what comes back up as facts.

This is the contract between the steps: authenticate/authorize produce the Principal,
policy admits or refuses a ``ModelCall``, route picks an endpoint, the provider fills in
``CallOutcome``, and audit writes both down. Plain dataclasses: no framework, no I/O.
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hiraga.identity.principal import Principal


class Classification(enum.IntEnum):
    """機密性 (confidentiality) levels of the government's unified standards."""

    LEVEL1 = 1
    LEVEL2 = 2
    LEVEL3 = 3


class Outcome(enum.StrEnum):
    OK = "ok"
    REFUSED = "refused"  # policy said no (quota, clearance, invalid input)
    FAILED = "failed"  # upstream failed after retries and fallbacks
    CANCELLED = "cancelled"  # the client went away


@dataclass(slots=True)
class ModelCall:
    """One request for a model, as admitted into the spine."""

    principal: Principal
    kind: str  # "chat" | "embeddings" | "rerank"
    requested_model: str  # the name or alias the client asked for
    classification: Classification = Classification.LEVEL1
    team_id: int | None = None  # the team the usage is charged to
    stream: bool = False
    estimated_input_tokens: int = 0
    max_output_tokens: int | None = None
    source: str = "api"  # "api" | "portal" | "app:<name>" | "rag:<kb>"
    # The highest prices (JPY per 1k tokens) among the endpoints this call may be routed to; policy
    # reserves budget with them at admission and reconciles to the real cost afterwards.
    max_input_price_per_1k_jpy: Decimal = Decimal(0)
    max_output_price_per_1k_jpy: Decimal = Decimal(0)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float = field(default_factory=time.monotonic)
    # What the classification was raised by, besides the level chosen (e.g. {"kb:3": 3, "app:要約": 2});
    # ``classification`` is always the highest of all (see hiraga.spine.classification).
    drawn_on: dict[str, int] = field(default_factory=dict)

    def draw_on(self, source: str, level: int) -> None:
        """The call uses ``source`` (a knowledge base, a file, an app) of ``level``: raise the
        call's classification to it if it is higher. Never lowers it."""
        self.drawn_on[source] = int(Classification(level))
        self.classification = max(self.classification, Classification(level))


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # True when counted by hiraga because the upstream sent no usage

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class CallOutcome:
    """What happened, filled in as the call proceeds; audit writes it whatever the outcome."""

    outcome: Outcome = Outcome.FAILED
    endpoint_id: int | None = None
    endpoint_name: str | None = None
    upstream_model: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost_jpy: Decimal = Decimal("0")
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error_code: str | None = None
    attempts: int = 0
    # PII found and handled for the endpoint that was used (kind → count; never the values), and
    # the policy applied to it ("mask" | "block" | "allow"; None: internal endpoint, not scanned).
    pii_counts: dict[str, int] = field(default_factory=dict)
    pii_policy: str | None = None
    # Facts about policy decisions for the audit record (the rule of a refusal, the clearance used).
    decisions: dict[str, Any] = field(default_factory=dict)
