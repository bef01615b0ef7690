"""The 公用文チェック service behind the API (framework-free): validate, run the rules off the
event loop, then the optional model pass."""

from __future__ import annotations

import time

import anyio

from hiraga.errors import InvalidInput, PayloadTooLarge
from hiraga.kouyoubun.checker import check
from hiraga.kouyoubun.model_pass import ModelPass
from hiraga.kouyoubun.protocol import MAX_TEXT_CHARS, CheckRequest, CheckResponse, FindingOut
from hiraga.kouyoubun.registry import CheckOptions, rule_families


def options_of(request: CheckRequest) -> CheckOptions:
    known = rule_families()
    unknown = sorted(set(request.families or ()) - known.keys())
    if unknown:
        raise InvalidInput(
            f"規則の種類「{'、'.join(unknown)}」はありません。使えるもの: {', '.join(known)}",
            detail={"field": "families"},
        )
    families = frozenset(request.families) if request.families is not None else None
    return CheckOptions(request.long_sentence_chars, request.soft_sentence_chars, families)


def validate_text(text: str) -> None:
    if not text.strip():
        raise InvalidInput("チェックする文章を入力してください。", code="empty_text", detail={"field": "text"})
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadTooLarge(
            f"文章が長すぎます（{len(text):,} 字）。{MAX_TEXT_CHARS:,} 字以内に分けてチェックしてください。",
            code="text_too_long",
            detail={"field": "text", "max_chars": MAX_TEXT_CHARS},
        )


async def run_check(request: CheckRequest, model_pass: ModelPass | None = None) -> CheckResponse:
    validate_text(request.text)
    options = options_of(request)
    started = time.perf_counter()
    result = await anyio.to_thread.run_sync(check, request.text, options)
    findings = list(result.findings)
    status = None
    if model_pass is not None:
        suggestions = await model_pass.suggest(request.text, findings)
        findings.extend(suggestions)
        status = f"モデルによる提案 {len(suggestions)} 件"
    return CheckResponse(
        findings=[FindingOut.of(f, request.text) for f in findings],
        characters=len(request.text),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        model_pass=status,
    )
