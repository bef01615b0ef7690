"""The PII step of a run of a registered app marked ``external``.

Before the call, every text the app would receive is masked with ONE placeholder map for the whole
run (the same value gets the same placeholder in a form field, a chat turn and a file):

- every string value of ``inputs``, at any depth (form fields, ``chat_history`` roles and contents,
  selected options), and the file names of ``inputs.files``;
- the contents of uploaded files that read as text: UTF-8 or Shift_JIS (cp932) without NUL or other
  control characters. They are masked and sent back in the same encoding (UTF-8 if a placeholder could
  not be written in it). Anything else (PDF, images, Office files, ...) is binary here and is sent
  UNTOUCHED: this step cannot see into it, so apps that must not get personal data in such files need
  them kept off the form.

After the call, the placeholders in the ``outputs`` the user sees are put back (for async apps this
is the COMPLETED status-poll answer, as the client returns it). Artifacts (base64, possibly binary)
and the app's error messages keep the placeholders, which is the safe direction.

Policy: registered apps have no per-app PII policy column, so external apps are always under
``mask`` (``PiiPolicy.MASK``); internal apps get the request as it is and nothing is scanned.
The counts per kind (never the values) go into the run's audit record as
``{"pii": {"policy": "mask", "counts": {...}}}``, like the gateway's calls; the placeholder map lives
in memory for the length of the run only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import orjson

from hiraga.apps.protocol import AppAnswer
from hiraga.pii import PiiGuard, PiiPolicy, PlaceholderMap, restore
from hiraga.spine.pii import INLINE_SCAN_BYTES, shared_guard

APP_PII_POLICY = PiiPolicy.MASK  # no per-app policy yet: external apps are always masked
TEXT_FILE_ENCODINGS = ("utf-8", "cp932")  # cp932: Shift_JIS as Japanese offices write it
ALLOWED_CONTROLS = frozenset("\t\n\r\f")


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where a masked text goes back: a plain string, or a file's base64 content in ``encoding``."""

    index: int
    encoding: str | None = None


@dataclass(frozen=True, slots=True)
class AppPiiCall:
    """What one run sends (``body``) and the way back (``restore``); ``mapping`` is None when the app is
    internal (nothing scanned, nothing restored)."""

    body: dict[str, Any]
    mapping: PlaceholderMap | None = None
    counts: dict[str, int] | None = None

    @property
    def audit_detail(self) -> dict[str, Any] | None:
        """``{"policy", "counts"}`` for the run's audit record (None for internal apps)."""
        if self.mapping is None:
            return None
        return {"policy": APP_PII_POLICY.value, "counts": dict(sorted((self.counts or {}).items()))}

    def restore(self, answer: AppAnswer) -> AppAnswer:
        """``answer`` with this run's placeholders in ``outputs`` replaced by the values."""
        if self.mapping is None or not len(self.mapping):
            return answer
        return answer.model_copy(update={"outputs": restore(answer.outputs, self.mapping)})

    def __repr__(self) -> str:
        return f"AppPiiCall(counts={self.counts!r})"


async def prepare_app_call(
    body: dict[str, Any], *, external: bool, guard: Callable[[], PiiGuard] = shared_guard
) -> AppPiiCall:
    """The request for the app: as it is for internal apps, masked for external ones (large requests
    are scanned in a worker thread, the detectors being CPU-bound)."""
    if not external:
        return AppPiiCall(body)
    if len(orjson.dumps(body)) <= INLINE_SCAN_BYTES:
        return mask_app_body(guard(), body)
    return await anyio.to_thread.run_sync(lambda: mask_app_body(guard(), body))


def mask_app_body(guard: PiiGuard, body: dict[str, Any]) -> AppPiiCall:
    """Mask every text of ``body["inputs"]`` (see the module docstring) with one placeholder map."""
    texts: list[str] = []
    inputs = body.get("inputs")
    if not isinstance(inputs, dict):
        return AppPiiCall(body, PlaceholderMap(), {})
    template = {
        key: _files_template(value, texts) if key == "files" else _template(value, texts)
        for key, value in inputs.items()
    }
    prepared = guard.prepare(texts, APP_PII_POLICY)
    return AppPiiCall({**body, "inputs": _fill(template, prepared.texts)}, prepared.mapping, dict(prepared.counts))


def _template(value: Any, texts: list[str]) -> Any:
    """``value`` with each string replaced by a slot, the string appended to ``texts``."""
    if isinstance(value, str):
        texts.append(value)
        return _Slot(len(texts) - 1)
    if isinstance(value, dict):
        return {key: _template(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_template(item, texts) for item in value]
    return value


def _files_template(groups: Any, texts: list[str]) -> Any:
    """``inputs.files`` (``[{"key", "files": [{"filename", "content"}]}]``): names and text contents."""
    if not isinstance(groups, list):
        return _template(groups, texts)
    rebuilt: list[Any] = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("files"), list):
            rebuilt.append(_template(group, texts))
            continue
        files = [_file_template(item, texts) if isinstance(item, dict) else item for item in group["files"]]
        rebuilt.append({**group, "files": files})
    return rebuilt


def _file_template(item: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    copy = dict(item)
    if isinstance(item.get("filename"), str):
        copy["filename"] = _template(item["filename"], texts)
    content = item.get("content")
    decoded = _file_text(content) if isinstance(content, str) else None
    if decoded is not None:
        text, encoding = decoded
        texts.append(text)
        copy["content"] = _Slot(len(texts) - 1, encoding)
    return copy


def _file_text(content: str) -> tuple[str, str] | None:
    """(text, encoding) when the base64 ``content`` is a text file; None for binary files."""
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data or b"\x00" in data:
        return None
    for encoding in TEXT_FILE_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if all(ch >= " " or ch in ALLOWED_CONTROLS for ch in text):
            return text, encoding
        return None  # decodes, but with control characters: not a text file
    return None


def _fill(template: Any, masked: list[str]) -> Any:
    if isinstance(template, _Slot):
        text = masked[template.index]
        if template.encoding is None:
            return text
        try:
            data = text.encode(template.encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8")
        return base64.b64encode(data).decode("ascii")
    if isinstance(template, dict):
        return {key: _fill(item, masked) for key, item in template.items()}
    if isinstance(template, list):
        return [_fill(item, masked) for item in template]
    return template
