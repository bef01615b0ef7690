"""End to end with the real embedded model: a fresh install answers the openai client in Japanese,
streaming, through the ``default`` alias; embeddings come from the packaged e5 model."""

from __future__ import annotations

import re

import openai
import pytest
from fastapi import FastAPI
from gateway_stub import ServerThread
from gateway_world import World

from hiraga.gateway.registry import BUILTIN_CHAT, BUILTIN_EMBEDDINGS

pytestmark = [pytest.mark.slow, pytest.mark.model]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_fresh_install_streams_a_japanese_answer_from_the_embedded_model(app: FastAPI, world: World):
    with ServerThread(app) as base_url:
        api = openai.OpenAI(base_url=base_url + "/v1", api_key=world.alice_key, max_retries=0)
        stream = api.chat.completions.create(
            model="default",
            stream=True,
            max_tokens=48,
            temperature=0,
            messages=[
                {"role": "system", "content": "あなたは日本語で簡潔に答えるアシスタントです。"},
                {"role": "user", "content": "日本の首都はどこですか？日本語で一文で答えてください。"},
            ],
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert JAPANESE.search(text), text
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
        assert {c.model for c in chunks if c.choices} == {BUILTIN_CHAT}  # names the model that answered

        vectors = api.embeddings.create(model=BUILTIN_EMBEDDINGS, input=["東京は日本の首都です。"])
        assert len(vectors.data[0].embedding) == 384
