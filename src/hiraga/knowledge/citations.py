"""Citations in RAG answers, checked in code.

The model is shown numbered passages and asked to cite them as [1], [2], ... Nothing it writes is
trusted: every marker is parsed here, a marker whose number names no retrieved passage is removed
and reported, and the 根拠 (evidence) list is built from the valid markers only. Law passages are
named by law and article (e.g. 行政手続法第五条) with a link to the law on e-Gov, built from the law
id in the XML metadata (the chunk's URL) or in the file name (e-Gov's bulk files are named by it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hiraga.knowledge.runtime import SearchHit

NOT_FOUND_MESSAGE = "該当する資料が見つかりませんでした。"
EGOV_LAW_URL = "https://laws.e-gov.go.jp/law/{law_id}"
EGOV_PREFIX = "https://laws.e-gov.go.jp/law/"
# [1] [1, 2] [1・2] and full-width ［１］ (normalised before matching)
_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,、，・]\s*\d{1,3})*)\s*\]")
_LAW_ID = re.compile(r"^(\d{3}(?:[A-Z]{2}\d{10}|CONSTITUTION))")
_ARTICLE = re.compile(r"^(第[一二三四五六七八九十百千〇]+条(?:の[一二三四五六七八九十]+)*)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class LawReference:
    law_title: str
    articles: tuple[str, ...]  # e.g. ("第五条",); empty when the passage names none
    url: str  # the law on e-Gov (with the article's anchor when the XML gave one)

    @property
    def label(self) -> str:
        return f"{self.law_title}{'・'.join(self.articles)}"


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved passage as numbered in the prompt (``number`` from 1)."""

    number: int
    chunk_id: int
    document_id: int
    document_name: str
    document_title: str
    text: str
    score: float
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    article: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, number: int, hit: SearchHit) -> Passage:
        return cls(
            number,
            hit.chunk_id,
            hit.document_id,
            hit.document_name,
            hit.document_title,
            hit.text,
            hit.score,
            hit.heading_path,
            hit.page,
            hit.article,
            hit.url,
        )

    @property
    def law(self) -> LawReference | None:
        return law_reference(self)

    @property
    def location(self) -> str:
        """Where in the document: the article(s), else the page, else the heading path."""
        law = self.law
        if law is not None and law.articles:
            return "・".join(law.articles)
        if self.article:
            return self.article
        if self.page is not None:
            return f"{self.page} ページ"
        return " > ".join(self.heading_path[1:] or self.heading_path)

    @property
    def label(self) -> str:
        """How the 根拠 panel names the passage: 行政手続法第五条, or document and location."""
        law = self.law
        if law is not None:
            return law.label
        title = self.document_title or self.document_name
        return f"{title}（{self.location}）" if self.location else title

    @property
    def link(self) -> str | None:
        law = self.law
        return law.url if law is not None else self.url


def law_id_of(passage: Passage) -> str | None:
    if passage.url and passage.url.startswith(EGOV_PREFIX):
        return passage.url[len(EGOV_PREFIX) :].split("#", 1)[0].split("/", 1)[0] or None
    match = _LAW_ID.match(passage.document_name)
    return match.group(1) if match else None


def law_reference(passage: Passage) -> LawReference | None:
    """The law and article(s) a passage of an e-Gov law file holds; None for other documents."""
    law_id = law_id_of(passage)
    if law_id is None:
        return None
    title = passage.document_title or (passage.heading_path[0] if passage.heading_path else law_id)
    if passage.article:
        articles: tuple[str, ...] = (passage.article,)
    else:  # plain-text law files: the articles that begin inside the passage
        articles = tuple(dict.fromkeys(_ARTICLE.findall(passage.text)))
    url = passage.url if passage.url and passage.url.startswith(EGOV_PREFIX) else EGOV_LAW_URL.format(law_id=law_id)
    return LawReference(title, articles, url)


# -- checking an answer ------------------------------------------------------------------------------
@dataclass(slots=True)
class CheckedAnswer:
    text: str  # the answer with invalid markers removed (and [1, 2] written as [1][2])
    cited: list[Passage] = field(default_factory=list)  # valid, in order of first citation
    invalid: list[int] = field(default_factory=list)  # numbers cited that name no passage

    @property
    def grounded(self) -> bool:
        return bool(self.cited)

    @property
    def laws(self) -> list[LawReference]:
        found: dict[str, LawReference] = {}
        for passage in self.cited:
            law = passage.law
            if law is not None:
                found.setdefault(law.label, law)
        return list(found.values())


def cited_numbers(text: str) -> list[int]:
    """Every number cited in ``text``, in order, repeats kept."""
    normalised = unicodedata.normalize("NFKC", text)
    return [int(n) for m in _MARKER.finditer(normalised) for n in re.split(r"[,、，・]", m.group(1))]


def check_citations(text: str, passages: Sequence[Passage]) -> CheckedAnswer:
    """Keep the markers that name a passage, remove the others and report them."""
    by_number = {p.number: p for p in passages}
    cited: dict[int, Passage] = {}
    invalid: list[int] = []

    def replace(match: re.Match[str]) -> str:
        kept = []
        for raw in re.split(r"[,、，・]", match.group(1)):
            number = int(raw)
            if number in by_number:
                cited.setdefault(number, by_number[number])
                kept.append(f"[{number}]")
            elif number not in invalid:
                invalid.append(number)
        return "".join(dict.fromkeys(kept))

    fullwidth = str.maketrans("［］０１２３４５６７８９，", "[]0123456789,")
    checked = _MARKER.sub(replace, text.translate(fullwidth))
    checked = re.sub(r"[ \t]+([。、．，])", r"\1", checked)
    return CheckedAnswer(checked.strip(), list(cited.values()), invalid)


def law_footer(answer: CheckedAnswer) -> str:
    """A Markdown line naming each cited law article with its e-Gov link (empty when none)."""
    parts = []
    for passage in answer.cited:
        law = passage.law
        if law is not None:
            parts.append(f"[{passage.number}] [{law.label}]({law.url})")
    return ("根拠条文: " + "、".join(dict.fromkeys(parts))) if parts else ""


def linked_markers(markdown: str, numbers: Iterable[int], anchor: str = "passage-") -> str:
    """Each valid [n] as a Markdown link to the 根拠 panel entry ``#passage-n`` (for rendering)."""
    valid = set(numbers)

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return f"[\\[{number}\\]](#{anchor}{number})" if number in valid else match.group(0)

    return re.sub(r"(?<![\\\]])\[(\d{1,3})\](?!\()", link, markdown)


# -- measuring support (the citation benchmark, and tests) ---------------------------------------------
def char_ngrams(text: str, n: int = 3) -> set[str]:
    cleaned = re.sub(r"[\s\[\]0-9。、，．「」『』（）()・:：]+", "", unicodedata.normalize("NFKC", text))
    return {cleaned[i : i + n] for i in range(len(cleaned) - n + 1)}


def containment(claim: str, passage: str, n: int = 3) -> float:
    """Share of the claim's character n-grams found in the passage (1.0: all of it is there)."""
    grams = char_ngrams(claim, n)
    return len(grams & char_ngrams(passage, n)) / len(grams) if grams else 0.0


def cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """The sentences of an answer that carry markers, each with the numbers it cites (a marker
    written just after the full stop, as in 「…である。[1]」, belongs to the sentence before it)."""
    pieces: list[str] = []
    for piece in re.split(r"(?<=[。！？\n])", unicodedata.normalize("NFKC", text)):
        leading = re.match(r"^(\s*(?:\[[^\]]*\]\s*)+)", piece)
        if leading and pieces and _MARKER.search(leading.group(1)):
            pieces[-1] += leading.group(1)
            piece = piece[leading.end() :]
        pieces.append(piece)
    found = []
    for sentence in pieces:
        numbers = cited_numbers(sentence)
        claim = _MARKER.sub("", sentence).strip()
        if numbers and claim:
            found.append((claim, numbers))
    return found
