"""Fixtures for the embedded-model tests: the real packaged model, assembled once per cache dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hiraga.providers.embedded.embeddings import EmbeddedEmbedder
from hiraga.providers.embedded.llama_runtime import LlamaRuntime
from hiraga.providers.embedded.packaged_model import ensure_packaged_model
from model_cache import MODEL_CACHE_DIR


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Reused across sessions so the 491 MB assembly happens once per machine."""
    return MODEL_CACHE_DIR


@pytest.fixture(scope="session")
def packaged_model_path(model_cache_dir: Path) -> Path:
    return ensure_packaged_model(model_cache_dir)


@pytest.fixture(scope="session")
def runtime(packaged_model_path: Path) -> Iterator[LlamaRuntime]:
    rt = LlamaRuntime.load(packaged_model_path, context=2048, slots=1)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def embedder() -> EmbeddedEmbedder:
    return EmbeddedEmbedder.shared()
