from __future__ import annotations

from hiraga.knowledge.tokenise import MAX_PIECE_BYTES, char_bigrams, pieces_for_sudachi, search_terms, words


def test_words_are_normalised_forms_without_particles() -> None:
    found = words("日本で梅雨がないのは北海道とどこか。")
    assert found == ["日本", "梅雨", "無い", "北海道", "どこ"]


def test_bigrams_are_marked_and_cover_compounds() -> None:
    assert char_bigrams("個人情報") == ["#個人", "#人情", "#情報"]
    assert search_terms("個人情報", bigrams=False) == words("個人情報")


def test_long_text_is_cut_under_the_sudachi_limit_and_still_tokenised() -> None:
    text = "行政庁は審査基準を定めるものとする。" * 5000  # ~270 kB, far over 49,149 bytes
    pieces = pieces_for_sudachi(text)
    assert len(pieces) > 1 and all(len(p.encode()) <= MAX_PIECE_BYTES for p in pieces)
    assert "".join(pieces) == text
    assert words(text).count("審査") == 5000


def test_a_long_run_without_breaks_is_cut_on_characters() -> None:
    text = "あ" * 30_000  # 90 kB, no sentence end
    pieces = pieces_for_sudachi(text)
    assert "".join(pieces) == text and all(len(p.encode()) <= MAX_PIECE_BYTES for p in pieces)
