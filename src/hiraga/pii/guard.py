"""What a caller (the gateway) uses: per-endpoint policy, detector loading and masking of a whole request."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hiraga import plugins
from hiraga.errors import ConfigurationError, Forbidden
from hiraga.pii.base import PiiDetector
from hiraga.pii.masking import PlaceholderMap, mask
from hiraga.pii.scan import scan
from hiraga.pii.streaming import StreamingRestorer


class PiiPolicy(enum.StrEnum):
    """What to do with PII in a request to an endpoint (set by the admin per endpoint or app)."""

    MASK = "mask"  # replace with placeholders before the call, restore in the answer
    BLOCK = "block"  # refuse the request (403 pii_blocked)
    ALLOW = "allow"  # send as is (e.g. an internal, cleared endpoint)


class PiiBlocked(Forbidden):
    code = "pii_blocked"
    message = "個人情報が含まれているため、この送信先には送信できません。"


def blocked_error(counts: dict[str, int], labels: dict[str, str]) -> PiiBlocked:
    names = "、".join(labels.get(kind, kind) for kind in sorted(counts))
    return PiiBlocked(
        f"個人情報（{names}）が含まれているため、この送信先には送信できません。該当箇所を削除してから再度お試しください。",
        detail={"kinds": sorted(counts), "counts": dict(sorted(counts.items()))},
    )


def load_detectors(names: Iterable[str] | None = None) -> list[PiiDetector]:
    """Instantiate the detectors registered under ``hiraga.pii_detectors`` (all, or the named ones)."""
    available = plugins.discover("pii_detectors")
    wanted = sorted(available) if names is None else list(names)
    detectors: list[PiiDetector] = []
    for name in wanted:
        if name not in available:
            raise ConfigurationError(f"個人情報検出プラグイン「{name}」が見つかりません。")
        detector = available[name]()
        if not isinstance(detector, PiiDetector):
            raise ConfigurationError(f"個人情報検出プラグイン「{name}」が検出器の規約を満たしていません。")
        detectors.append(detector)
    return detectors


@dataclass(frozen=True, slots=True)
class PreparedTexts:
    texts: list[str]  # what may be sent upstream
    mapping: PlaceholderMap  # keep server-side; give to restore()/restorer()
    counts: dict[str, int]  # kind → occurrences, for the audit record

    def restorer(self) -> StreamingRestorer:
        return StreamingRestorer(self.mapping)

    def __repr__(self) -> str:
        return f"PreparedTexts(counts={self.counts!r})"


class PiiGuard:
    """Applies a ``PiiPolicy`` to all texts of one request with one placeholder map."""

    def __init__(self, detectors: Sequence[PiiDetector]) -> None:
        self.detectors = list(detectors)
        self.labels = {detector.kind: detector.label for detector in self.detectors}

    @classmethod
    def from_plugins(cls, names: Iterable[str] | None = None) -> PiiGuard:
        return cls(load_detectors(names))

    def prepare(self, texts: Sequence[str], policy: PiiPolicy, mapping: PlaceholderMap | None = None) -> PreparedTexts:
        """Mask (MASK), check and refuse (BLOCK, raises PiiBlocked) or pass through (ALLOW) ``texts``."""
        mapping = mapping if mapping is not None else PlaceholderMap()
        if policy is PiiPolicy.ALLOW:
            return PreparedTexts(list(texts), mapping, {})
        if policy is PiiPolicy.BLOCK:
            counts = Counter(finding.kind for text in texts for finding in scan(text, self.detectors))
            if counts:
                raise blocked_error(dict(counts), self.labels)
            return PreparedTexts(list(texts), mapping, {})
        masked = [mask(text, self.detectors, mapping) for text in texts]
        total: Counter[str] = Counter()
        for item in masked:
            total.update(item.counts)
        return PreparedTexts([mapping.mask_known(item.text) for item in masked], mapping, dict(total))


@dataclass(frozen=True, slots=True)
class PreparedMessages:
    messages: list[dict[str, Any]]  # OpenAI-style chat messages with masked content
    prepared: PreparedTexts


def prepare_messages(guard: PiiGuard, messages: Sequence[Mapping[str, Any]], policy: PiiPolicy) -> PreparedMessages:
    """``PiiGuard.prepare`` over OpenAI-style chat messages: string content, text parts, and the
    arguments of an assistant's ``tool_calls`` (JSON text); anything else untouched."""
    texts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(part["text"] for part in content if _is_text_part(part))
        texts.extend(call["function"]["arguments"] for call in _tool_calls(message))
    prepared = guard.prepare(texts, policy)
    masked = iter(prepared.texts)
    rebuilt: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        copy = dict(message)
        if isinstance(content, str):
            copy["content"] = next(masked)
        elif isinstance(content, list):
            copy["content"] = [{**part, "text": next(masked)} if _is_text_part(part) else part for part in content]
        calls = _tool_calls(message)
        if calls:
            copy["tool_calls"] = [
                {**call, "function": {**call["function"], "arguments": next(masked)}} if _has_arguments(call) else call
                for call in message["tool_calls"]
            ]
        rebuilt.append(copy)
    return PreparedMessages(rebuilt, prepared)


def _has_arguments(call: object) -> bool:
    function = call.get("function") if isinstance(call, dict) else None
    return isinstance(function, dict) and isinstance(function.get("arguments"), str)


def _tool_calls(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    calls = message.get("tool_calls")
    return [call for call in calls if _has_arguments(call)] if isinstance(calls, list) else []


def _is_text_part(part: object) -> bool:
    return isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
