"""Folding streamed chunks into one chat.completion: text and reasoning joined in order, a tool call's
name and arguments assembled across chunks by index, the last usage and finish reason kept."""

from __future__ import annotations

from hiraga.providers.embedded.completion import CompletionAccumulator


def test_chunks_fold_into_one_completion() -> None:
    folded = CompletionAccumulator("qwen")
    first_call = {"index": 1, "id": "t1", "function": {"name": "sea", "arguments": '{"q"'}}
    chunks = [
        {"id": "c1", "created": 7, "choices": [{"delta": {"content": "市役所"}}]},
        {"choices": [{"delta": {"content": "は", "reasoning_content": "考え"}}]},
        {"choices": [{"delta": {"tool_calls": [first_call]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"name": "rch", "arguments": ':"税"}'}}]}}]},
        {"choices": [{"delta": {"content": "9時から"}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 5}},
    ]
    for chunk in chunks:
        folded.add(chunk)
    result = folded.result()
    assert result["id"] == "c1" and result["created"] == 7 and result["model"] == "qwen"
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "市役所は9時から"
    assert choice["message"]["reasoning_content"] == "考え"
    assert choice["message"]["tool_calls"] == [
        {"id": "t1", "type": "function", "function": {"name": "search", "arguments": '{"q":"税"}'}}
    ]
    assert result["usage"] == {"prompt_tokens": 12, "completion_tokens": 5}


def test_a_completion_without_reasoning_or_tools_has_neither_and_gets_an_id() -> None:
    folded = CompletionAccumulator("qwen")
    folded.add({"choices": [{"delta": {"content": "はい"}, "finish_reason": "stop"}]})
    message = folded.result()["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "はい"}
    assert folded.result()["id"].startswith("chatcmpl-")
