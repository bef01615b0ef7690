"""Every claim of an answer tied to the passage that holds it, checked in code.

``check_citations`` keeps only markers that name a shown passage; this second check asks whether
the passage actually *contains* what the sentence says (character 3-gram containment, the measure
of docs/benchmarks.md "RAG citations"). Per sentence of the answer:

- a cited passage contains the sentence: its markers stay (citations of passages that do not are
  dropped);
- no cited passage does, but another shown passage does: the marker is moved or added there;
- no shown passage does: the sentence keeps no marker and is marked 〔根拠未確認〕, and the answer
  carries a notice — an unsupported sentence is never presented as cited.

A sentence counts as contained when a passage holds at least half of its character 3-grams, or
(for paraphrases) every one of its content words when it has three or more. (At 80 % of the words
the citation benchmark found a garbled claim passed: one missing word can be the one that matters.)
Either way the passage sentence closest to the claim must affirm or negate as the claim does: the
parity of their negations (ない・ず・無い) must match, so 「…を定めなくてもよい」 is not supported by
「…を定めなければならない」.

Small models often answer with a bare marker ("[1]") or with prose that copies nothing. When no
sentence of the answer is supported, a verbatim quotation of the sentence of the cited (else the
best) passage that best covers the question follows the model's text, with a notice saying so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from hiraga.knowledge.chunking import split_sentences
from hiraga.knowledge.citations import Passage, char_ngrams, cited_numbers, containment
from hiraga.knowledge.tokenise import content_words, negations

SUPPORTED_AT = 0.5  # share of a sentence's character 3-grams a passage must contain
WORDS_SUPPORTED_AT = 1.0  # or: share of its content words (paraphrases), with at least MIN_CLAIM_WORDS
MIN_CLAIM_WORDS = 3
MIN_CLAIM_GRAMS = 4  # shorter pieces ("以上です。", a bare marker) make no claim to check
UNSUPPORTED_MARK = "〔根拠未確認〕"
UNSUPPORTED_NOTICE = "資料で確認できない文があります（{mark}）。内容を資料で確かめてください。"
MOVED_NOTICE = "資料の番号を {count} か所、その文を含む資料に付け直しました。"
QUOTED_NOTICE = "モデルの回答に資料で確認できる文がなかったため、資料の該当箇所をそのまま引用しました。"
QUOTE_LABEL = "資料の該当箇所:"
_MARKERS = re.compile(r"\[(\d{1,3})\]")
_DONT_KNOW = ("資料からは分かりません", "資料からはわかりません", "分かりません", "わかりません")


@dataclass(slots=True)
class Attributed:
    text: str
    moved: int = 0  # sentences whose markers were added or moved to the passage that holds them
    unsupported: list[str] = field(default_factory=list)  # claims no shown passage contains
    quoted: bool = False  # the answer was replaced by a quotation from a passage

    @property
    def notices(self) -> list[str]:
        found = []
        if self.quoted:
            found.append(QUOTED_NOTICE)
        if self.moved:
            found.append(MOVED_NOTICE.format(count=self.moved))
        if self.unsupported:
            found.append(UNSUPPORTED_NOTICE.format(mark=UNSUPPORTED_MARK))
        return found


_OPENING, _CLOSING = "「『（(［【", "」』）)］】"


def _sentence_ends(text: str) -> list[int]:
    """Offsets just after each 。！？ outside brackets (「…。」 and （…。） do not end a sentence)
    and after each line end."""
    ends, depth = [], 0
    for i, char in enumerate(text):
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth = max(0, depth - 1)
        elif char == "\n" or (char in "。！？" and depth == 0):
            ends.append(i + 1)
            depth = 0 if char == "\n" else depth
    return ends


def pieces(text: str) -> list[str]:
    """The answer cut into sentences (see ``_sentence_ends``); markers written just after the full
    stop (「…である。[1]」) stay with the sentence before them."""
    found: list[str] = []
    start = 0
    for end in [*_sentence_ends(text), len(text)]:
        piece, start = text[start:end], end
        leading = re.match(r"^([ \t]*(?:\[\d{1,3}\][ \t]*)+)", piece)
        if leading and found:
            found[-1] += leading.group(1)
            piece = piece[leading.end() :]
        if piece:
            found.append(piece)
    return found


def shown_text(passage: Passage) -> str:
    """A passage as the model saw it: its label (e.g. 行政手続法第五条) and its text."""
    return f"{passage.label}\n{passage.text}"


def is_claim(sentence: str) -> bool:
    claim = _MARKERS.sub("", sentence)
    if claim.strip() == QUOTE_LABEL or any(phrase in claim for phrase in _DONT_KNOW):
        return False
    return len(char_ngrams(claim)) >= MIN_CLAIM_GRAMS


def supports(claim: str, passage: str) -> bool:
    """Whether ``passage`` contains what ``claim`` says (see the module docstring)."""
    claimed = set(content_words(claim))
    if containment(claim, passage) >= SUPPORTED_AT:
        return same_polarity(claim, passage)
    if len(claimed) < MIN_CLAIM_WORDS:
        return False
    if len(claimed.intersection(content_words(passage))) / len(claimed) < WORDS_SUPPORTED_AT:
        return False
    return same_polarity(claim, passage)


def same_polarity(claim: str, passage: str) -> bool:
    """Whether the passage sentence closest to the claim affirms or negates as the claim does
    (an even or odd number of negations): 「定めなくてもよい」 shares every word and most 3-grams
    with 「定めなければならない」 yet says the opposite."""
    closest = closest_sentence(claim, split_sentences(passage) or [passage])
    return negations(claim) % 2 == negations(closest) % 2


def closest_sentence(text: str, sentences: Sequence[str]) -> str:
    """The sentence sharing the most content words with ``text``, then the most character 3-grams
    (the first on a tie)."""
    words = set(content_words(text))
    grams = char_ngrams(text)

    def overlap(sentence: str) -> tuple[int, int]:
        return len(words.intersection(content_words(sentence))), len(grams & char_ngrams(sentence))

    return max(sentences, key=overlap)


def _with_markers(sentence: str, numbers: Sequence[int], flag: bool) -> str:
    """``sentence`` without its markers, then the given markers (before the closing 。 if any)."""
    bare = _MARKERS.sub("", sentence)
    body = bare.rstrip()
    trailing = bare[len(body) :]
    end = body[-1] if body and body[-1] in "。！？" else ""
    core = body[:-1] if end else body
    marks = "".join(f"[{n}]" for n in numbers) + (UNSUPPORTED_MARK if flag else "")
    return f"{core.rstrip()}{marks}{end}{trailing}"


def _attribute_sentence(sentence: str, passages: Sequence[Passage], result: Attributed) -> str:
    by_number = {p.number: p for p in passages}
    cited = [n for n in dict.fromkeys(cited_numbers(sentence)) if n in by_number]
    claim = _MARKERS.sub("", sentence)
    holding = [n for n in cited if supports(claim, shown_text(by_number[n]))]
    if holding:
        return sentence if holding == cited else _with_markers(sentence, holding, False)
    ranked = sorted(passages, key=lambda p: -containment(claim, shown_text(p)))
    best = next((p.number for p in ranked if supports(claim, shown_text(p))), None)
    if best is not None:
        result.moved += 1
        return _with_markers(sentence, [best], False)
    result.unsupported.append(claim.strip())
    return _with_markers(sentence, [], True)


def best_sentence(question: str, passage: Passage) -> str:
    """The passage sentence that best covers the question (see ``closest_sentence``); the first
    sentence when nothing is shared."""
    return closest_sentence(question, split_sentences(passage.text) or [passage.text]).strip()


def quotation(question: str, passages: Sequence[Passage], cited: Sequence[int]) -> str:
    """「the best sentence」[n] — its closing 。 dropped inside the brackets, as quotations are written."""
    passage = next((p for p in passages if p.number in cited), passages[0])
    return f"「{best_sentence(question, passage).rstrip('。')}」[{passage.number}]"


def attribute(answer: str, question: str, passages: Sequence[Passage]) -> Attributed:
    """``answer`` (markers already checked) with each claim tied to a passage that contains it."""
    result = Attributed(answer)
    if not passages:
        return result
    text = unicodedata.normalize("NFC", answer)
    out: list[str] = []
    for piece in pieces(text):
        out.append(_attribute_sentence(piece, passages, result) if is_claim(piece) else piece)
    written = "".join(out).strip()
    supported = [p for p in out if is_claim(p) and UNSUPPORTED_MARK not in p]
    declined = any(phrase in text for phrase in _DONT_KNOW)
    if not supported and not declined:
        result.quoted = True
        prose = _MARKERS.sub("", written).strip()
        quote = f"{QUOTE_LABEL}\n\n> {quotation(question, passages, cited_numbers(text))}"
        written = f"{prose}\n\n{quote}" if prose else quote
    result.text = written
    return result
