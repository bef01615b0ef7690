"""Wire models of the 公用文チェック API (POST /api/v1/kouyoubun/check)."""

from __future__ import annotations

from pydantic import Field

from hiraga.kouyoubun.findings import Finding, Origin, Severity
from hiraga.web.api.schemas import Request, Response

MAX_TEXT_CHARS = 200_000


class CheckRequest(Request):
    text: str = Field(description="チェックする文章（最大 200,000 字）")
    long_sentence_chars: int = Field(default=120, ge=20, le=2000, description="この字数を超える文を「長い文」とする")
    soft_sentence_chars: int = Field(default=80, ge=20, le=2000, description="この字数を超える文に注意を付ける")
    families: list[str] | None = Field(
        default=None,
        description="使う規則の種類（kana, prh, morpheme, conjunction, digits, width, bracket, style, length）",
    )
    model: str | None = Field(
        default=None, description="指定すると、このモデルによる提案も加える（規則による指摘とは別）"
    )


class FindingOut(Response):
    start: int = Field(description="元の文章での開始位置（文字単位、0 から）")
    end: int = Field(description="終了位置（この位置の文字は含まない）")
    text: str = Field(description="指摘箇所の文字列")
    rule_id: str
    rule_name: str
    reason: str
    suggestion: str | None = Field(description="置き換え案（一つに決まらないときは null）")
    source: str = Field(description="規則の出典（文書名と項目、または辞書ファイル名）")
    severity: Severity
    origin: Origin = Field(description="rule（規則による指摘）/ model（モデルによる提案。内容を確認してください）")

    @classmethod
    def of(cls, finding: Finding, text: str) -> FindingOut:
        return cls(
            start=finding.start,
            end=finding.end,
            text=text[finding.start : finding.end],
            rule_id=finding.rule_id,
            rule_name=finding.rule_name,
            reason=finding.reason,
            suggestion=finding.suggestion,
            source=str(finding.source),
            severity=finding.severity,
            origin=finding.origin,
        )


class CheckResponse(Response):
    findings: list[FindingOut]
    characters: int
    elapsed_ms: float
    model_pass: str | None = Field(default=None, description="モデルによる提案の状態（使わなかったときは null）")
