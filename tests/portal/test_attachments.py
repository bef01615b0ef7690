"""Attached files: text from Word, Excel, PowerPoint and plain text through the document parsers;
unsupported, corrupt, empty and too many files refused in Japanese; long text cut with a note."""

from __future__ import annotations

import io

import docx
import openpyxl
import pptx
import pytest

from hiraga.apps.forms import Upload
from hiraga.errors import InvalidInput
from hiraga.portal.attachments import MAX_FILES, as_context, extract_all, extract_text


def word(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def excel() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["項目", "金額"])
    sheet.append(["手数料", 1200])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def slides() -> bytes:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "来年度の方針"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def test_text_comes_out_of_each_office_format_and_plain_text() -> None:
    assert "規程第一条" in extract_text(Upload("規程.docx", word("規程第一条")))
    sheet = extract_text(Upload("料金.xlsx", excel()))
    assert "手数料" in sheet and "1200" in sheet
    assert "来年度の方針" in extract_text(Upload("方針.pptx", slides()))
    assert extract_text(Upload("memo.txt", "会議メモ".encode())) == "会議メモ"


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (Upload("virus.exe", b"MZ..."), "対応していません"),
        (Upload("壊れた.docx", b"not a zip"), "一致しません"),
        (Upload("空.txt", b""), "空です"),
        (Upload("空白.txt", b"   \n  "), "文字を取り出せませんでした"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(upload: Upload, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        extract_text(upload)
    assert words in caught.value.message


def test_too_many_files_are_refused() -> None:
    files = [Upload(f"{i}.txt", b"x") for i in range(MAX_FILES + 1)]
    with pytest.raises(InvalidInput, match=f"{MAX_FILES} 個まで"):
        extract_all(files, 1000)


def test_long_files_share_the_budget_and_say_what_was_cut() -> None:
    extracted = extract_all([Upload("短い.txt", "短い".encode()), Upload("長い.txt", ("長" * 1000).encode())], 100)
    short, long = extracted
    assert short.text == "短い" and short.notice() is None
    assert len(long.text) == 98 and long.chars_total == 1000
    assert long.notice() == "「長い.txt」は長いため、全 1,000 文字のうち先頭 98 文字だけをモデルに渡しました。"
    assert as_context(extracted).startswith("【添付ファイル: 短い.txt】\n短い\n\n【添付ファイル: 長い.txt】\n長長")
    dropped = extract_all([Upload("長い.txt", ("長" * 10).encode())], 0)[0]
    assert dropped.text == "" and "渡していません" in (dropped.notice() or "")
