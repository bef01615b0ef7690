"""LlamaRuntime with the real packaged model: answers, streaming, fairness, cancellation, errors."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hiraga.providers.embedded.fair_queue import EmbeddedBusyError, FairScheduler
from hiraga.providers.embedded.llama_runtime import (
    EmbeddedContextExceededError,
    EmbeddedRequestError,
    LlamaRuntime,
)

pytestmark = pytest.mark.anyio

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# an unstopped _long_body() answer runs to 1500 tokens: about 30 s on 2 idle cores, minutes when busy;
# a stopped one frees the model within a token or two, so this bound only has to survive a loaded CI machine
HANG_GUARD_S = 120.0  # only guards against a hang; speed is compared within a test, never to a constant
SYSTEM = {"role": "system", "content": "あなたは日本語で簡潔に答えるアシスタントです。"}


def _body(question: str, max_tokens: int = 32) -> dict[str, Any]:
    return {
        "messages": [SYSTEM, {"role": "user", "content": question}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 7,
    }


def _long_body() -> dict[str, Any]:
    return _body("日本の四季について、それぞれの季節の行事を詳しく説明してください。", max_tokens=1500)


async def test_load_is_once_per_process(runtime: LlamaRuntime, packaged_model_path: Path) -> None:
    assert LlamaRuntime.load(packaged_model_path) is runtime
    assert runtime.model_id == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


async def test_japanese_chat_answer(runtime: LlamaRuntime) -> None:
    result = await runtime.chat(_body("日本の首都はどこですか？"), caller="u1")
    assert result["object"] == "chat.completion"
    assert result["model"] == runtime.model_id
    content = result["choices"][0]["message"]["content"]
    assert content.strip()
    assert JAPANESE.search(content), content
    assert "\ufffd" not in content
    assert result["choices"][0]["finish_reason"] in {"stop", "length"}
    usage = result["usage"]
    assert usage["prompt_tokens"] > 0
    assert 0 < usage["completion_tokens"] <= 32


async def test_stream_deltas_are_whole_utf8_and_match_chat(runtime: LlamaRuntime) -> None:
    # rare kanji are split over several byte-level tokens by Qwen's tokenizer
    body = _body("次の言葉をそのまま書き写してください：薔薇、髑髏、顰蹙、檸檬、鬱蒼、齟齬", max_tokens=48)
    # a reused prompt cache changes the numerics of the last prompt token (and so greedy output):
    # compare both paths on a fully evaluated prompt
    body["cache_prompt"] = False
    deltas: list[str] = []
    chunks = [chunk async for chunk in runtime.chat_stream(body, caller="u1")]
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        for choice in chunk["choices"]:
            piece = choice["delta"].get("content")
            if piece:
                assert "\ufffd" not in piece
                piece.encode("utf-8")  # no lone surrogates
                deltas.append(piece)
    streamed = "".join(deltas)
    assert JAPANESE.search(streamed)
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    whole = await runtime.chat(body, caller="u1")
    assert streamed == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"]


async def _wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_fairness_burst_does_not_starve_other_caller(runtime: LlamaRuntime) -> None:
    order: list[str] = []
    sched = runtime.scheduler

    async def ask(caller: str, label: str, max_tokens: int = 8) -> None:
        await runtime.chat(_body("こんにちは", max_tokens=max_tokens), caller=caller)
        order.append(label)

    first = asyncio.create_task(ask("alice", "A1", max_tokens=24))
    await _wait_until(lambda: sched.active == 1)
    more = [asyncio.create_task(ask("alice", f"A{i}")) for i in (2, 3)]
    await _wait_until(lambda: sched.waiting == 2)
    bob = asyncio.create_task(ask("bob", "B1"))
    await asyncio.gather(first, *more, bob)
    assert order[-1] != "B1"
    assert order == ["A1", "B1", "A2", "A3"]


async def test_breaking_out_of_stream_frees_the_model(runtime: LlamaRuntime) -> None:
    received = 0
    async for chunk in runtime.chat_stream(_long_body(), caller="u1"):
        received += bool(chunk["choices"] and chunk["choices"][0]["delta"].get("content"))
        if received >= 3:
            break
    await _wait_until(lambda: runtime.scheduler.active == 0, timeout=HANG_GUARD_S)
    result = await runtime.chat(_body("こんにちは", max_tokens=8), caller="u2")
    assert result["choices"][0]["message"]["content"]


async def test_closing_stream_context_frees_the_model(runtime: LlamaRuntime) -> None:
    async with runtime.chat_stream(_long_body(), caller="u1") as stream:
        first = await stream.__anext__()
        assert first["object"] == "chat.completion.chunk"
    await _wait_until(lambda: runtime.scheduler.active == 0, timeout=HANG_GUARD_S)
    assert [chunk async for chunk in stream] == []


async def test_cancelled_task_frees_the_model(runtime: LlamaRuntime) -> None:
    task = asyncio.create_task(runtime.chat(_long_body(), caller="u1"))
    await _wait_until(lambda: runtime.scheduler.active == 1)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _wait_until(lambda: runtime.scheduler.active == 0, timeout=HANG_GUARD_S)
    result = await runtime.chat(_body("こんにちは", max_tokens=8), caller="u2")
    assert result["choices"][0]["message"]["content"]


async def test_cancel_during_long_prompt_stops_at_next_batch(runtime: LlamaRuntime) -> None:
    # about 1800 prompt tokens (the fixture's context is 2048), seven 256-token steps before the
    # first token. The whole prompt's time is estimated from a third of it, timed here and scaled by
    # their token counts (prompt time is close to linear in length at this size).
    # llama.cpp's loop runs one step ahead of the progress callback that sees the stop, so a
    # cancelled prompt ends within two steps
    instruction, sentence = "次の文章を要約してください。", "東京は日本の首都です。"
    long_text, third = instruction + sentence * 250, instruction + sentence * 84
    reference = _body(third, max_tokens=1)
    reference["cache_prompt"] = False
    started = time.perf_counter()
    await runtime.chat(reference, caller="u1")
    scale = await runtime.count_tokens(long_text) / await runtime.count_tokens(third)
    whole_prompt = (time.perf_counter() - started) * scale
    body = _body(long_text, max_tokens=1)
    body["cache_prompt"] = False
    task = asyncio.create_task(runtime.chat(body, caller="u1"))
    await _wait_until(lambda: runtime.scheduler.active == 1)
    await asyncio.sleep(0.1)
    cancelled = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # llama.cpp finishes the batch in hand, then serves the next request
    await runtime.chat(_body("こんにちは", max_tokens=1), caller="u2")
    after_cancel = time.perf_counter() - cancelled
    assert after_cancel < 0.6 * whole_prompt


async def test_context_overflow_is_a_clear_error(runtime: LlamaRuntime) -> None:
    body = _body("あ" * 5000, max_tokens=8)
    with pytest.raises(EmbeddedContextExceededError) as info:
        await runtime.chat(body)
    assert info.value.code == "embedded_model_context_exceeded"
    assert "入力が長すぎます" in info.value.message
    assert runtime.scheduler.active == 0


async def test_bad_request_is_refused_before_queueing(runtime: LlamaRuntime) -> None:
    with pytest.raises(EmbeddedRequestError) as info:
        await runtime.chat({"messages": []})
    assert info.value.code == "embedded_model_bad_request"
    for bad in ("10", 0, -1, 2.5, True):
        with pytest.raises(EmbeddedRequestError):
            await runtime.chat({"messages": [{"role": "user", "content": "hi"}], "max_tokens": bad})
    assert runtime.scheduler.active == 0 and runtime.scheduler.waiting == 0


# --- the scheduler alone (no model) ------------------------------------------------------------


async def test_scheduler_serves_least_recently_served_caller_first() -> None:
    sched = FairScheduler(slots=1)
    served: list[str] = []
    await sched.acquire("a")  # a holds the only turn

    async def wait_turn(caller: str) -> None:
        await sched.acquire(caller)
        served.append(caller)

    tasks = [asyncio.create_task(wait_turn(c)) for c in ("a", "a", "a", "b", "c")]
    await _wait_until(lambda: sched.waiting == 5)
    for _ in range(6):
        sched.release()
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)
    assert served == ["b", "c", "a", "a", "a"]


async def test_scheduler_cancelled_waiter_leaves_queue() -> None:
    sched = FairScheduler(slots=1)
    await sched.acquire("a")
    waiter = asyncio.create_task(sched.acquire("b"))
    await _wait_until(lambda: sched.waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert sched.waiting == 0
    sched.release()
    assert sched.active == 0
    await asyncio.wait_for(sched.acquire("c"), 1.0)


async def test_scheduler_limits_one_callers_backlog() -> None:
    sched = FairScheduler(slots=1, max_waiting_per_caller=2)
    await sched.acquire("a")
    waiting = [asyncio.create_task(sched.acquire("a")) for _ in range(2)]
    await _wait_until(lambda: sched.waiting == 2)
    with pytest.raises(EmbeddedBusyError) as info:
        await sched.acquire("a")
    assert info.value.code == "embedded_model_busy"
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
