"""The text under check: its sentences (cut at 。！？ outside brackets and at line ends) and, on
demand, their Sudachi tokens with offsets into the whole text."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from hiraga.kouyoubun.morphology import Token, tokenize

OPENERS = "（「『【〔［｛(["
CLOSERS = "）」』】〕］｝)]"
SENTENCE_ENDS = "。！？!?"


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int  # exclusive; includes the closing 。 if any
    text: str

    @property
    def closed(self) -> bool:
        """Ends with a full stop (a prose sentence, not a heading or list item)."""
        return self.text.endswith(tuple(SENTENCE_ENDS))


@dataclass
class Document:
    text: str
    _tokens: dict[int, list[Token]] = field(default_factory=dict, repr=False)

    @cached_property
    def sentences(self) -> list[Sentence]:
        return split_sentences(self.text)

    def tokens(self, sentence: Sentence) -> list[Token]:
        """The sentence's tokens, offsets relative to the whole text (tokenised once)."""
        found = self._tokens.get(sentence.start)
        if found is None:
            found = [
                Token(t.surface, t.start + sentence.start, t.end + sentence.start, t.pos, t.dictionary_form, t.reading)
                for t in tokenize(sentence.text)
            ]
            self._tokens[sentence.start] = found
        return found


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets; a 。 inside brackets (「…をいう。」) does not end one."""
    sentences: list[Sentence] = []
    start = 0
    depth = 0
    for i, char in enumerate(text):
        if char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth = max(0, depth - 1)
        if char == "\n" or (char in SENTENCE_ENDS and depth == 0):
            _add(sentences, text, start, i if char == "\n" else i + 1)
            start = i + 1
            if char == "\n":
                depth = 0
    _add(sentences, text, start, len(text))
    return sentences


def _add(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        sentences.append(Sentence(start, end, text[start:end]))
