"""OpenAI wire schemas for ``/v1`` and the small conversions around them.

Requests are validated with these models but forwarded as the client's own JSON (unknown
parameters such as ``tools`` pass through untouched); only hiraga's own fields are taken out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hiraga.bounds import INT64_MAX, INT64_MIN
from hiraga.errors import InvalidInput
from hiraga.spine.call import Classification, Usage

CLASSIFICATION_HEADER = "x-hiraga-classification"
TEAM_HEADER = "x-hiraga-team"
ENDPOINT_HEADER = "x-hiraga-endpoint"

MAX_CONTEXT_TOKENS = 10_000_000  # no model reads or writes more; bounds every token count that comes in
MAX_TOKEN_ID = 2**31 - 1  # token ids (pre-tokenised embedding input) are vocabulary indexes
M = TypeVar("M", bound=BaseModel)
TokenCount = Annotated[int, Field(ge=1, le=MAX_CONTEXT_TOKENS)]
TokenId = Annotated[int, Field(ge=0, le=MAX_TOKEN_ID)]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: TokenCount | None = None
    max_completion_tokens: TokenCount | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=16)
    seed: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    stop: str | list[str] | None = Field(default=None)
    metadata: dict[str, Any] | None = None


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    input: str | list[str] | list[TokenId] | list[list[TokenId]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1, le=65_536)
    input_type: Literal["query", "passage"] | None = None  # e5 prefixes; hiraga extension
    metadata: dict[str, Any] | None = None


class RerankRequest(BaseModel):
    """``/v1/rerank`` (the Jina/Cohere shape vLLM and llama.cpp server accept)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=20_000)
    documents: list[Annotated[str, Field(max_length=100_000)]] = Field(min_length=1, max_length=1000)
    top_n: int | None = Field(default=None, ge=1, le=1000)
    metadata: dict[str, Any] | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "hiraga"
    hiraga: dict[str, Any] = Field(default_factory=dict)  # kind, clearance, external, tags, description


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("JSON の形式が正しくありません。", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("リクエスト本文は JSON オブジェクトで指定してください。", code="invalid_json")
    return body


def validated(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidInput(
            f"パラメーター「{field}」の値が正しくありません（{first['msg']}）。",
            code="invalid_parameter",
            detail={"field": field, "problem": first["type"]},
        ) from None


def classification_of(header: str | None, metadata: dict[str, Any] | None, default: int) -> Classification:
    """The highest level the request declares (header and ``metadata.classification``)."""
    levels = []
    for source, value in (
        (CLASSIFICATION_HEADER, header),
        ("metadata.classification", (metadata or {}).get("classification")),
    ):
        if value is None:
            continue
        try:
            levels.append(Classification(int(value)))
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{source} には機密性 1・2・3 のいずれかを指定してください。",
                code="invalid_classification",
                detail={"field": source},
            ) from None
    return max(levels) if levels else Classification(default)


def upstream_body(body: dict[str, Any]) -> dict[str, Any]:
    """The client's body without hiraga's own fields (the upstream must not see them)."""
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or "classification" not in metadata:
        return body
    rest = {k: v for k, v in metadata.items() if k != "classification"}
    out = {k: v for k, v in body.items() if k != "metadata"}
    if rest:
        out["metadata"] = rest
    return out


def estimate_tokens(text: str) -> int:
    """A rough count for when the upstream reports none: CJK characters count one each, other text
    about four characters per token."""
    wide = sum(1 for ch in text if ord(ch) >= 0x3000)
    return wide + (len(text) - wide + 3) // 4


def message_text(messages: Any) -> str:
    parts: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def usage_of(payload: Any) -> Usage | None:
    usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens", 0)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(input_tokens=prompt, output_tokens=completion)


def rerank_usage(payload: Any) -> Usage | None:
    """A rerank reply's usage: its ``prompt_tokens``, else its ``total_tokens`` (vLLM reports only
    that); everything a reranker reads is input."""
    usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return None
    tokens = usage.get("prompt_tokens", usage.get("total_tokens"))
    return Usage(input_tokens=tokens, output_tokens=0) if isinstance(tokens, int) else None


def rerank_text(body: Any) -> str:
    """The text a rerank request sends: the query and every document."""
    if not isinstance(body, dict):
        return ""
    documents = body.get("documents")
    texts = [d for d in documents if isinstance(d, str)] if isinstance(documents, list) else []
    return "\n".join([str(body.get("query") or ""), *texts])
