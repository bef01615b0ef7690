"""Japanese tokens for lexical search: SudachiPy ``normalized_form`` with particles,
auxiliaries and symbols dropped, plus character bigrams of the content words.

SudachiPy refuses inputs over 49,149 bytes, so text is cut into pieces of at most
``MAX_PIECE_BYTES`` at line or sentence ends before it is tokenised.
"""

from __future__ import annotations

import re
import threading
from typing import Any

MAX_PIECE_BYTES = 40_000
_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
_PIECE_BREAK = re.compile(r"(?<=[\n。!?！？])")
_local = threading.local()


def _tokenizer() -> Any:
    """One Sudachi tokenizer per thread (they are not thread-safe)."""
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C, fields={"pos", "normalized_form"})
        _local.tokenizer = tokenizer
    return tokenizer


def pieces_for_sudachi(text: str, limit: int = MAX_PIECE_BYTES) -> list[str]:
    """Cut ``text`` into pieces Sudachi accepts, preferring line and sentence ends."""
    if len(text.encode("utf-8")) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for part in _PIECE_BREAK.split(text):
        while len(part.encode("utf-8")) > limit:  # no break inside: cut on characters
            cut = limit // 4
            pieces.append(part[:cut])
            part = part[cut:]
        if len((current + part).encode("utf-8")) > limit:
            pieces.append(current)
            current = ""
        current += part
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


def words(text: str) -> list[str]:
    """Content words in Sudachi's normalised form (lower-cased), in order."""
    tokenizer = _tokenizer()
    found: list[str] = []
    for piece in pieces_for_sudachi(text):
        for morpheme in tokenizer.tokenize(piece):
            if morpheme.part_of_speech()[0] in _DROPPED_POS:
                continue
            form = morpheme.normalized_form().strip().lower()
            if form:
                found.append(form)
    return found


def char_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of each run of word characters (catches compounds Sudachi splits)."""
    grams: list[str] = []
    for run in re.findall(r"\w+", text.lower()):
        grams.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
    return grams


# question words and light verbs that say nothing about a question's topic
# fmt: off
GENERIC_WORDS = frozenset({
    "何", "なに", "どう", "どの", "どんな", "どこ", "いつ", "誰", "だれ", "なぜ", "何故",
    "ため", "為", "こと", "事", "もの", "物", "する", "為る", "ある", "有る", "いる",
    "居る", "なる", "成る", "できる", "出来る", "教える", "知る", "下さる", "くださる",
    "ください", "場合", "について", "付く", "以下", "よう", "様", "ない", "無い", "方", "中",
    "時", "等",
})
# fmt: on


def content_words(text: str) -> list[str]:
    """The words of ``text`` that say what it is about: no question words or light verbs, no
    single characters except digits."""
    return [w for w in words(text) if (w not in GENERIC_WORDS and len(w) > 1) or w.isdigit()]


# what negates a clause in Sudachi's analysis: the auxiliaries ない・ず (ぬ/ん) and the adjective 無い
_NEGATION_FORMS = frozenset({("助動詞", "ない"), ("助動詞", "ず"), ("助動詞", "ぬ"), ("形容詞", "無い")})


def negations(text: str) -> int:
    """How many negations ``text`` holds (「定めなければならない」 holds two: an obligation)."""
    tokenizer = _tokenizer()
    return sum(
        (morpheme.part_of_speech()[0], morpheme.normalized_form()) in _NEGATION_FORMS
        for piece in pieces_for_sudachi(text)
        for morpheme in tokenizer.tokenize(piece)
    )


SENTENCE_MARK = "¶"  # separates sentences in a stored term string; never indexed


def sentence_terms(text: str) -> str:
    """The stored form of a chunk's terms: each sentence's words and bigrams, sentences separated by
    ``SENTENCE_MARK``, all space-separated (spaces inside a term become ``_``)."""
    from hiraga.knowledge.chunking import split_sentences

    parts = [" ".join(t.replace(" ", "_") for t in search_terms(s)) for s in split_sentences(text)]
    return f" {SENTENCE_MARK} ".join(p for p in parts if p)


def indexed_terms(stored: str) -> list[str]:
    """The terms of a stored term string that the index counts."""
    return [t for t in stored.split(" ") if t and t != SENTENCE_MARK]


def search_terms(text: str, *, bigrams: bool = True) -> list[str]:
    """What lexical search indexes: the words, then (optionally) the character bigrams."""
    terms = words(text)
    return terms + char_bigrams(text) if bigrams else terms


def proper_nouns(text: str) -> list[str]:
    """The proper nouns of ``text`` (people, places, organisations) as written, in order."""
    tokenizer = _tokenizer()
    return [
        morpheme.surface()
        for piece in pieces_for_sudachi(text)
        for morpheme in tokenizer.tokenize(piece)
        if morpheme.part_of_speech()[1] == "固有名詞"
    ]
