from __future__ import annotations

from hiraga.knowledge.chunking import ChunkingPolicy, ChunkStream, chunk_document, split_sentences
from hiraga.knowledge.parsers import open_document, parse_document
from hiraga.knowledge.parsers.base import Block, BlockKind, ParsedDocument

from .pdf_support import text_pdf


def test_sentences_end_at_japanese_punctuation_and_keep_closing_brackets() -> None:
    assert split_sentences("申請する。「よいか？」と聞く！次") == ["申請する。", "「よいか？」と聞く！", "次"]


def test_long_paragraph_is_cut_only_between_sentences() -> None:
    sentence = "この文は区切りの確認のための文です。"  # 18 characters
    document = ParsedDocument("t", [Block(BlockKind.PARAGRAPH, sentence * 20, ("章",))])
    chunks = chunk_document(document, ChunkingPolicy(target=100, hard_max=200))
    assert len(chunks) > 1
    assert all(c.text.endswith("。") and len(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks) == sentence * 20
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_headings_start_new_chunks_and_fill_the_heading_path() -> None:
    document = ParsedDocument(
        "t",
        [
            Block(BlockKind.HEADING, "総則", ("総則",)),
            Block(BlockKind.PARAGRAPH, "第一段落。", ("総則",)),
            Block(BlockKind.LIST_ITEM, "- 項目", ("総則",)),
            Block(BlockKind.HEADING, "手続", ("手続",)),
            Block(BlockKind.PARAGRAPH, "第二段落。", ("手続",), page=3),
        ],
        url="https://example.jp/doc",
    )
    chunks = chunk_document(document)
    assert [(c.text, c.heading_path, c.page) for c in chunks] == [
        ("第一段落。\n- 項目", ("総則",), None),
        ("第二段落。", ("手続",), 3),
    ]
    assert all(c.url == "https://example.jp/doc" for c in chunks)


def test_a_table_or_article_stays_whole_when_it_fits() -> None:
    table = "\n".join(f"| 行{i} | 値{i} |" for i in range(20))  # ~260 characters
    article = "第五条(審査基準)\n" + "行政庁は、審査基準を定めるものとする。" * 8
    document = ParsedDocument(
        "t",
        [
            Block(BlockKind.TABLE, table),
            Block(BlockKind.ARTICLE, article, ("行政手続法",), article="第五条"),
        ],
    )
    chunks = chunk_document(document, ChunkingPolicy(target=100, hard_max=400))
    assert [c.text for c in chunks] == [table, article]
    assert chunks[1].article == "第五条"


def test_an_oversized_table_is_cut_between_rows() -> None:
    rows = [f"| 行{i:03d} | {'値' * 20} |" for i in range(60)]
    chunks = chunk_document(ParsedDocument("t", [Block(BlockKind.TABLE, "\n".join(rows))]), ChunkingPolicy(100, 200))
    assert len(chunks) > 1
    assert [line for c in chunks for line in c.text.split("\n")] == rows


def test_a_pdf_chunked_page_by_page_from_any_point_gives_the_whole_documents_chunks() -> None:
    pages = [[f"# Part {p}-{s}" if s % 2 == 0 else f"Line {p}-{s} of the manual." for s in range(6)] for p in range(4)]
    data = text_pdf(*pages)
    whole = chunk_document(parse_document(data, "manual.pdf"))
    parted = open_document(data, "manual.pdf")
    assert parted.paged and parted.part_count == 4
    assert [c for _, c in ChunkStream(parted)] == whole
    parts = [part for part, _ in ChunkStream(parted)]
    assert parts == [(c.page or 0) - 1 for c in whole] and len(set(parts)) == 4  # a part is a page
    first_ordinal = parts.index(parts[5])  # resume at the page of the sixth chunk
    resumed = ChunkStream(open_document(data, "manual.pdf"), parts[5], first_ordinal)
    assert [c for _, c in resumed] == whole[first_ordinal:]
