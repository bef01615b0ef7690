"""The model-provider extension point: a small Protocol, the endpoint it is handed, its errors.

A provider is registered as an entry point in the ``hiraga.providers`` group whose object is
called with the Settings and returns a :class:`ModelProvider`. Built-ins are declared the same way.
A provider that can also rerank (a cross-encoder behind ``/v1/rerank``) implements
:class:`RerankProvider` as well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from hiraga.errors import HiragaError, InvalidInput

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """One registered endpoint as the router and providers see it (the API key is decrypted)."""

    id: int
    name: str
    provider: str
    kind: str = "chat"
    base_url: str = ""
    upstream_model: str = ""
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    model_path: str | None = None
    description: str = ""
    context_window: int = 4096
    price_input_per_1k: Decimal = Decimal("0")
    price_output_per_1k: Decimal = Decimal("0")
    clearance: int = 1
    external: bool = False
    pii_policy: str = "mask"  # for external endpoints: "mask" | "block" | "allow" (hiraga.spine.pii)
    team_ids: frozenset[int] | None = None  # None: every team
    timeout_seconds: float = 60.0
    max_concurrent: int = 0  # 0: unlimited
    tags: tuple[str, ...] = ()
    enabled: bool = True


class UpstreamError(HiragaError):
    """The upstream did not give a usable answer. ``retry_same`` says a retry on the same endpoint
    may help (connect errors, timeouts, 429, 5xx); other upstream errors move on to the next one."""

    status = 502
    code = "upstream_failed"
    message = "モデルサーバーから正しい応答が得られませんでした。"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_same: bool = True,
        upstream_status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code, detail={"upstream_status": upstream_status})
        self.retry_same = retry_same
        self.upstream_status = upstream_status
        self.retry_after = retry_after


class UpstreamRejected(InvalidInput):
    """The upstream refused the request itself (400/413/422): retrying elsewhere would not help."""

    code = "upstream_rejected_request"
    message = "モデルサーバーがリクエストを受け付けませんでした。パラメーターを確認してください。"


@runtime_checkable
class ModelProvider(Protocol):
    async def chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> Json:
        """One ``chat.completion`` object for an OpenAI chat request body."""
        ...

    def stream_chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> AsyncIterator[bytes]:
        """Complete SSE events (``data: ...\\n\\n``), bytes exactly as they should reach the client,
        ending with ``data: [DONE]``. Raises :class:`UpstreamError` before the first event on failure."""
        ...

    async def embed(self, endpoint: EndpointConfig, body: Json) -> Json:
        """One OpenAI ``list`` of embeddings (with ``usage``)."""
        ...


@runtime_checkable
class RerankProvider(Protocol):
    async def rerank(self, endpoint: EndpointConfig, body: Json) -> Json:
        """Scores of documents for a query: ``{"query", "documents": [str], "top_n"?}`` in, and out
        ``{"results": [{"index", "relevance_score"}], "usage"?}`` (the Jina/Cohere shape that vLLM,
        llama.cpp server and Infinity serve at ``/v1/rerank``)."""
        ...
