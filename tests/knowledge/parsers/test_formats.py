"""Each built-in format, from real files written here with the format's own library."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx
import pytest
from pypdf import PdfWriter

from hiraga.knowledge.parsers import open_document, parse_document, parsers_by_extension, pdf
from hiraga.knowledge.parsers.base import BlockKind, UnreadableDocument

from ..pdf_support import text_pdf


def test_every_builtin_format_is_registered_through_entry_points() -> None:
    assert {".pdf", ".docx", ".xlsx", ".pptx", ".html", ".md", ".txt", ".csv", ".xml"} <= set(parsers_by_extension())


def test_pdf_text_layer_with_page_numbers() -> None:
    parsed = parse_document(text_pdf(["Application manual", "Submit the form by Friday."]), "manual.pdf")
    assert "Submit the form by Friday." in " ".join(b.text for b in parsed.blocks)
    assert {b.page for b in parsed.blocks} == {1}


def test_image_only_pdf_says_no_text_layer() -> None:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(buffer.getvalue(), "scan.pdf")
    assert caught.value.code == "pdf_no_text_layer" and "テキスト層がありません" in caught.value.message


def test_encrypted_pdf_is_refused_with_a_reason() -> None:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(buffer.getvalue(), "locked.pdf")
    assert caught.value.code == "pdf_encrypted" and "no text layer" in caught.value.message


def test_docx_headings_paragraphs_and_tables() -> None:
    document = docx.Document()
    document.add_heading("申請の手引き", level=1)
    document.add_heading("提出先", level=2)
    document.add_paragraph("申請書は総務課の窓口に提出してください。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "書類", "部数"
    table.cell(1, 0).text, table.cell(1, 1).text = "申請書", "2"
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse_document(buffer.getvalue(), "tebiki.docx")
    paragraph = next(b for b in parsed.blocks if b.kind is BlockKind.PARAGRAPH)
    assert paragraph.text == "申請書は総務課の窓口に提出してください。"
    assert paragraph.heading_path == ("申請の手引き", "提出先")
    assert any(b.kind is BlockKind.TABLE and "申請書 | 2" in b.text for b in parsed.blocks)


def test_xlsx_rows_become_table_blocks_per_sheet() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "手数料"
    sheet.append(["証明書", "金額"])
    sheet.append(["住民票", 300])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_document(buffer.getvalue(), "fees.xlsx")
    table = next(b for b in parsed.blocks if b.kind is BlockKind.TABLE)
    assert table.text == "証明書 | 金額\n住民票 | 300" and table.heading_path == ("手数料",)


def test_pptx_slides_carry_their_title_and_number() -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "導入計画"
    slide.placeholders[1].text_frame.text = "四月から試行を開始する。"
    buffer = io.BytesIO()
    presentation.save(buffer)
    parsed = parse_document(buffer.getvalue(), "plan.pptx")
    assert [(b.kind, b.text, b.heading_path, b.page) for b in parsed.blocks] == [
        (BlockKind.HEADING, "導入計画", ("導入計画",), 1),
        (BlockKind.PARAGRAPH, "四月から試行を開始する。", ("導入計画",), 1),
    ]


def test_html_skips_scripts_and_keeps_headings_and_tables() -> None:
    page = (
        "<html><head><title>案内</title><script>alert('x')</script></head><body>"
        "<h1>窓口案内</h1><p>受付は平日９時から。</p><table><tr><th>曜日</th><td>月</td></tr></table></body></html>"
    )
    parsed = parse_document(page.encode(), "guide.html")
    assert parsed.title == "案内"
    texts = [(b.kind, b.text) for b in parsed.blocks]
    assert (BlockKind.PARAGRAPH, "受付は平日9時から。") in texts
    assert (BlockKind.TABLE, "曜日 | 月") in texts
    assert not any("alert" in t for _, t in texts)


def test_csv_in_shift_jis_repeats_the_header_in_each_table_block() -> None:
    rows = "名称,電話\n" + "".join(f"窓口{i},03-0000-{i:04d}\n" for i in range(45))
    parsed = parse_document(rows.encode("cp932"), "contacts.csv")
    assert len(parsed.blocks) == 2
    assert all(b.text.startswith("名称 | 電話\n") for b in parsed.blocks)


def test_markdown_lists_and_headings() -> None:
    parsed = parse_document("# 規程\n\n- 第一項\n- 第二項\n".encode(), "rules.md")
    assert [(b.kind, b.text) for b in parsed.blocks][1:] == [
        (BlockKind.LIST_ITEM, "- 第一項"),
        (BlockKind.LIST_ITEM, "- 第二項"),
    ]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"%PDF-1.4 plain text", "report.docx", "wrong_format"),
        (b"hello", "data.exe", "unsupported_format"),
        (b"", "empty.txt", "empty_document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.txt", "wrong_format"),
    ],
)
def test_wrong_or_unknown_formats_fail_with_a_code(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(data, filename)
    assert caught.value.code == code


def test_zip_bomb_is_refused_before_unpacking() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w/>")
        archive.writestr("word/padding.bin", b"\0" * (64 * 1024 * 1024))  # 64 MB of zeros packs to ~64 kB
    with pytest.raises(UnreadableDocument) as caught:
        parse_document(buffer.getvalue(), "bomb.docx")
    assert caught.value.code == "zip_bomb"


def test_a_pdf_read_page_by_page_keeps_every_pages_text_while_pypdfs_cache_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf, "FORGET_EVERY", 2)  # drop pypdf's objects after every second page
    data = text_pdf(*[[f"Page {n} says rule {n}."] for n in range(1, 8)])
    parted = open_document(data, "rules.pdf")
    pages = [" ".join(b.text for b in blocks) for blocks in parted.read(0)]
    assert pages == [f"Page {n} says rule {n}." for n in range(1, 8)]
    assert [b.page for blocks in parted.read(5) for b in blocks] == [6, 7]  # from any page on
