"""Folding a stream of ``chat.completion.chunk`` dicts into one ``chat.completion`` dict (the embedded
runtime answers a non-streaming request by running the stream and folding it)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

Chunk = dict[str, Any]


@dataclass
class CompletionAccumulator:
    """Folds chat.completion.chunk dicts into one chat.completion dict."""

    model: str
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    ident: str = ""
    created: int = 0

    def add(self, chunk: Chunk) -> None:
        self.ident = chunk.get("id") or self.ident
        self.created = chunk.get("created") or self.created
        self.usage = chunk.get("usage") or self.usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            self.content.append(delta.get("content") or "")
            self.reasoning.append(delta.get("reasoning_content") or "")
            for call in delta.get("tool_calls") or []:
                self._add_tool_call(call)
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    def _add_tool_call(self, call: dict[str, Any]) -> None:
        slot = self.tool_calls.setdefault(
            int(call.get("index", 0)),
            {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
        )
        slot["id"] = call.get("id") or slot["id"]
        function = call.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""

    def result(self) -> Chunk:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.content)}
        if any(self.reasoning):
            message["reasoning_content"] = "".join(self.reasoning)
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        return {
            "id": self.ident or f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": self.created or int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage,
        }
