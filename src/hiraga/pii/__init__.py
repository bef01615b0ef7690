"""Japanese PII detection and masking (framework-free). See docs/pii.md."""

from hiraga.pii.base import Finding, PiiDetector
from hiraga.pii.guard import (
    PiiBlocked,
    PiiGuard,
    PiiPolicy,
    PreparedMessages,
    PreparedTexts,
    load_detectors,
    prepare_messages,
)
from hiraga.pii.masking import MaskedText, PlaceholderMap, mask, restore
from hiraga.pii.scan import resolve_overlaps, scan
from hiraga.pii.streaming import StreamingRestorer

__all__ = [
    "Finding",
    "MaskedText",
    "PiiBlocked",
    "PiiDetector",
    "PiiGuard",
    "PiiPolicy",
    "PlaceholderMap",
    "PreparedMessages",
    "PreparedTexts",
    "StreamingRestorer",
    "load_detectors",
    "mask",
    "prepare_messages",
    "resolve_overlaps",
    "restore",
    "scan",
]
