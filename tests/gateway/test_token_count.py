"""Counting tokens when the upstream reports none: the embedded model's own tokenizer, else the
heuristic; both marked estimated."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hiraga.gateway.protocol import estimate_tokens
from hiraga.gateway.token_count import estimated_usage
from hiraga.providers.base import EndpointConfig
from hiraga.providers.embedded.provider import EmbeddedProvider
from hiraga.providers.openai_compatible import OpenAICompatibleProvider
from hiraga.settings import load_settings
from model_cache import MODEL_CACHE_DIR

BODY = {"messages": [{"role": "user", "content": "日本の首都はどこですか？一文で答えてください。"}], "max_tokens": 24}


def test_remote_model_uses_the_heuristic():
    endpoint = EndpointConfig(id=1, name="remote", provider="openai", base_url="https://api.example.jp/v1")
    text = "東京です。Tokyo is the capital."
    usage = asyncio.run(estimated_usage(OpenAICompatibleProvider(), endpoint, BODY, text, 17))
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (17, estimate_tokens(text), True)


@pytest.mark.slow
@pytest.mark.model
def test_embedded_model_counts_with_its_own_tokenizer(tmp_path: Path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-" + "x1y2z3" * 8,
        embedded_model_dir=MODEL_CACHE_DIR,
        embedded_threads=2,
        embedded_context=2048,
    )
    provider = EmbeddedProvider(settings)
    endpoint = EndpointConfig(id=1, name="local", provider="embedded", context_window=2048)

    async def scenario() -> tuple[dict, object, int | None]:
        unloaded = await provider.count_tokens(endpoint, "東京")  # never loads a model just to count
        answer = await provider.chat(endpoint, {**BODY, "temperature": 0}, caller="t")
        text = answer["choices"][0]["message"]["content"]
        return answer, await estimated_usage(provider, endpoint, BODY, text, 0), unloaded

    answer, usage, unloaded = asyncio.run(scenario())
    reported = answer["usage"]
    assert unloaded is None and usage.estimated
    assert abs(usage.output_tokens - reported["completion_tokens"]) <= 1  # re-tokenising what it generated
    assert 0 < usage.input_tokens < reported["prompt_tokens"]  # the chat template adds its own tokens
