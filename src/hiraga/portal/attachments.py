"""Files attached to a chat turn or an app run: their text, extracted by the document parsers
(``hiraga.parsers`` plugins), and cut to fit the model's context window with a note for the user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from hiraga.apps.forms import Upload
from hiraga.errors import InvalidInput
from hiraga.knowledge.parsers import parse_document
from hiraga.portal.context_window import cut_to_tokens, share_budget

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
ACCEPTED = (".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv", ".html")


@dataclass(frozen=True, slots=True)
class ExtractedText:
    filename: str
    text: str  # the part that joins the context
    chars_total: int

    @property
    def was_cut(self) -> bool:
        return len(self.text) < self.chars_total

    def notice(self) -> str | None:
        if not self.was_cut:
            return None
        if not self.text:
            return f"「{self.filename}」は文脈に収まらないため、モデルに渡していません（{self.chars_total:,} 文字）。"
        return (
            f"「{self.filename}」は長いため、全 {self.chars_total:,} 文字のうち"
            f"先頭 {len(self.text):,} 文字だけをモデルに渡しました。"
        )


def _safe_name(filename: str) -> str:
    return PurePath(filename.replace("\\", "/")).name[:255] or "file"


def extract_text(upload: Upload) -> str:
    """The file's text; InvalidInput (Japanese) for unsupported, empty, oversized or corrupt files."""
    name = _safe_name(upload.filename)
    if len(upload.data) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"「{name}」が大きすぎます（{MAX_FILE_BYTES // (1024 * 1024)} MB まで）。",
            code="attachment_too_large",
            detail={"field": "files", "filename": name},
        )
    document = parse_document(upload.data, name)
    text = "\n".join(block.text for block in document.blocks if block.text.strip()).strip()
    if not text:
        raise InvalidInput(
            f"「{name}」から文字を取り出せませんでした（画像だけの PDF などは読めません）。",
            code="attachment_without_text",
            detail={"field": "files", "filename": name},
        )
    return text


def extract_all(uploads: Sequence[Upload], budget: int) -> list[ExtractedText]:
    """Every file's text, sharing ``budget`` tokens between them."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > MAX_FILES:
        raise InvalidInput(
            f"添付できるファイルは {MAX_FILES} 個までです。", code="too_many_attachments", detail={"field": "files"}
        )
    texts = [extract_text(u) for u in uploads]
    shares = share_budget(texts, budget)
    return [
        ExtractedText(filename=_safe_name(u.filename), text=cut_to_tokens(t, s), chars_total=len(t))
        for u, t, s in zip(uploads, texts, shares, strict=True)
    ]


def as_context(files: Sequence[ExtractedText]) -> str:
    """How attached text joins a prompt."""
    return "\n\n".join(f"【添付ファイル: {f.filename}】\n{f.text}" for f in files if f.text)
