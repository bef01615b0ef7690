"""Any OpenAI-compatible server: vLLM, SGLang, llama.cpp server, Ollama's /v1, commercial APIs, and
Azure OpenAI's ``/openai/deployments/<name>/...?api-version=`` form.

One pooled ``httpx.AsyncClient`` per provider instance (one per app). Streams are relayed event
by event as the upstream's own bytes; closing the iterator closes the upstream connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from hiraga.providers.base import EndpointConfig, Json, UpstreamError, UpstreamRejected
from hiraga.providers.sse import sse_events
from hiraga.settings import Settings

CLIENT_ERRORS = frozenset({400, 413, 422})
RETRY_SAME = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_ERROR_BODY = 2000


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _upstream_message(content: bytes) -> str:
    try:
        data = orjson.loads(content)
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or "")[:MAX_ERROR_BODY]
    except orjson.JSONDecodeError:
        return content[:200].decode("utf-8", "replace")


def status_error(status: int, content: bytes, headers: httpx.Headers) -> Exception:
    detail = _upstream_message(content)
    if status in CLIENT_ERRORS:
        return UpstreamRejected(
            f"モデルサーバーがリクエストを受け付けませんでした（HTTP {status}）: {detail}".rstrip(": "),
            detail={"upstream_status": status},
        )
    return UpstreamError(
        f"モデルサーバーがエラーを返しました（HTTP {status}）。",
        upstream_status=status,
        retry_same=status in RETRY_SAME or status >= 500,
        retry_after=_retry_after(headers) if status == 429 else None,
    )


def transport_error(exc: httpx.HTTPError) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError("モデルサーバーの応答が時間内にありませんでした。", code="upstream_timeout")
    return UpstreamError(
        f"モデルサーバーに接続できないか、接続が切れました（{type(exc).__name__}）。", code="upstream_unreachable"
    )


def _json_object(content: bytes, required: str) -> Json:
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get(required), list):
        raise UpstreamError("モデルサーバーの応答が JSON として正しくありません。", code="upstream_malformed")
    return data


class OpenAICompatibleProvider:
    requires_base_url = True

    def __init__(self, settings: Settings | None = None) -> None:
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=60),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- addressing --------------------------------------------------------------------------
    def url(self, endpoint: EndpointConfig, operation: str) -> str:
        return endpoint.base_url.rstrip("/") + "/" + operation

    def headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if endpoint.api_key:
            headers["authorization"] = f"Bearer {endpoint.api_key}"
        return headers

    def payload(self, endpoint: EndpointConfig, body: Json) -> bytes:
        return orjson.dumps({**body, "model": endpoint.upstream_model or body.get("model")})

    @staticmethod
    def timeout(endpoint: EndpointConfig) -> httpx.Timeout:
        seconds = endpoint.timeout_seconds
        return httpx.Timeout(seconds, connect=min(10.0, seconds))

    # -- calls -------------------------------------------------------------------------------
    async def _post(self, endpoint: EndpointConfig, operation: str, body: Json) -> bytes:
        try:
            response = await self.client.post(
                self.url(endpoint, operation),
                content=self.payload(endpoint, body),
                headers=self.headers(endpoint),
                timeout=self.timeout(endpoint),
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
        if response.status_code >= 400:
            raise status_error(response.status_code, response.content, response.headers)
        return response.content

    async def chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> Json:
        return _json_object(await self._post(endpoint, "chat/completions", body), "choices")

    async def embed(self, endpoint: EndpointConfig, body: Json) -> Json:
        return _json_object(await self._post(endpoint, "embeddings", body), "data")

    async def stream_chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> AsyncIterator[bytes]:
        request = self.client.build_request(
            "POST",
            self.url(endpoint, "chat/completions"),
            content=self.payload(endpoint, body),
            headers=self.headers(endpoint),
            timeout=self.timeout(endpoint),
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
        try:
            await _check_stream_start(response)
            async for event in sse_events(response.aiter_bytes()):
                yield event
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
        finally:
            await response.aclose()


async def _check_stream_start(response: httpx.Response) -> None:
    if response.status_code >= 400:
        content = await response.aread()
        raise status_error(response.status_code, content, response.headers)
    if "text/event-stream" not in response.headers.get("content-type", ""):
        raise UpstreamError("モデルサーバーがストリーミング形式で応答しませんでした。", code="upstream_malformed")


class AzureOpenAIProvider(OpenAICompatibleProvider):
    """Azure OpenAI: the deployment name is the upstream model, the key goes in ``api-key``."""

    def url(self, endpoint: EndpointConfig, operation: str) -> str:
        base = endpoint.base_url.rstrip("/")
        version = endpoint.api_version or "2024-10-21"
        return f"{base}/openai/deployments/{endpoint.upstream_model}/{operation}?api-version={version}"

    def headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if endpoint.api_key:
            headers["api-key"] = endpoint.api_key
        return headers

    def payload(self, endpoint: EndpointConfig, body: Json) -> bytes:
        return orjson.dumps({k: v for k, v in body.items() if k != "model"})
