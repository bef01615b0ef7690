"""The embedded models behind the ModelProvider Protocol: llama.cpp chat (the packaged Qwen model,
or an operator's GGUF file) and e5 embeddings. Each model loads on first use, once per process."""

from __future__ import annotations

import asyncio
import base64
import struct
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from hiraga.errors import InvalidInput
from hiraga.providers.base import EndpointConfig, Json, UpstreamError
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder
from hiraga.providers.embedded.llama_runtime import LlamaRuntime
from hiraga.providers.embedded.packaged_model import EmbeddedModelError, ensure_packaged_model
from hiraga.providers.sse import DONE
from hiraga.settings import Settings


def translate(exc: EmbeddedModelError) -> Exception:
    """Embedded errors as gateway errors: bad requests are the caller's, the rest fail over."""
    if exc.status == 400:
        return InvalidInput(exc.message, code=exc.code, detail=exc.detail)
    return UpstreamError(exc.message, code=exc.code, upstream_status=exc.status, retry_same=exc.status == 429)


class EmbeddedProvider:
    requires_base_url = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._load_lock = threading.Lock()
        self._runtimes: dict[str | None, LlamaRuntime] = {}

    # -- models ------------------------------------------------------------------------------
    def _model_file(self, endpoint: EndpointConfig) -> Path:
        if endpoint.model_path:
            return Path(endpoint.model_path)
        cache = self._settings.embedded_model_dir or self._settings.data_dir / "models"
        return ensure_packaged_model(cache)

    def _load_runtime(self, endpoint: EndpointConfig) -> LlamaRuntime:
        with self._load_lock:  # one assembly/load at a time; LlamaRuntime.load keeps one per file
            return LlamaRuntime.load(
                self._model_file(endpoint),
                threads=self._settings.embedded_threads,
                context=min(endpoint.context_window, self._settings.embedded_context),
            )

    async def runtime(self, endpoint: EndpointConfig) -> LlamaRuntime:
        loaded = self._runtimes.get(endpoint.model_path)
        if loaded is not None:
            return loaded
        try:
            runtime = await asyncio.to_thread(self._load_runtime, endpoint)
        except EmbeddedModelError as exc:
            raise UpstreamError(exc.message, code=exc.code, retry_same=False) from exc
        self._runtimes[endpoint.model_path] = runtime
        return runtime

    # -- calls -------------------------------------------------------------------------------
    async def chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> Json:
        runtime = await self.runtime(endpoint)
        try:
            result = await runtime.chat(body, caller=caller)
        except EmbeddedModelError as exc:
            raise translate(exc) from exc
        result["model"] = endpoint.name
        return result

    async def stream_chat(self, endpoint: EndpointConfig, body: Json, *, caller: str) -> AsyncIterator[bytes]:
        runtime = await self.runtime(endpoint)
        try:
            async with runtime.chat_stream(body, caller=caller) as stream:
                async for chunk in stream:
                    chunk["model"] = endpoint.name
                    yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        except EmbeddedModelError as exc:
            raise translate(exc) from exc
        yield DONE

    async def count_tokens(self, endpoint: EndpointConfig, text: str) -> int | None:
        """By the model's own tokenizer, when the model is loaded (never loaded just to count)."""
        runtime = self._runtimes.get(endpoint.model_path)
        if runtime is None or endpoint.kind != "chat":
            return None
        try:
            return await runtime.count_tokens(text)
        except EmbeddedModelError:
            return None

    async def embed(self, endpoint: EndpointConfig, body: Json) -> Json:
        texts = _texts(body.get("input"))
        try:
            embedder = await asyncio.to_thread(EmbeddedEmbedder.shared)
            is_query = body.get("input_type") == "query"
            vectors = await (embedder.aembed_queries(texts) if is_query else embedder.aembed_passages(texts))
            tokens = sum([await embedder.acount_tokens(t, is_query=is_query) for t in texts])
        except EmbeddedModelError as exc:
            raise translate(exc) from exc
        as_base64 = body.get("encoding_format") == "base64"
        data = [
            {"object": "embedding", "index": i, "embedding": _b64(v) if as_base64 else v} for i, v in enumerate(vectors)
        ]
        return {
            "object": "list",
            "data": data,
            "model": endpoint.name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput(
            "組み込みの埋め込みモデルの input は文字列か、空でない文字列の配列で指定してください。",
            detail={"field": "input"},
        )
    return value


def _b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
