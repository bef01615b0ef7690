"""Person names: SudachiPy 人名 tags (姓/名) plus context (様・さん・氏・殿・君…, 氏名: labels)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from sudachipy import Dictionary, SplitMode, Tokenizer

from hiraga.pii.base import Finding
from hiraga.pii.detectors.pattern import normalized

HONORIFICS = frozenset(
    [
        "様",
        "さま",
        "さん",
        "氏",
        "殿",
        "君",
        "くん",
        "ちゃん",
        "先生",
        "議員",
        "教授",
        "弁護士",
        "部長",
        "課長",
        "係長",
        "主査",
        "主任",
        "室長",
        "局長",
        "所長",
        "次長",
        "審議官",
        "委員",
        "委員長",
        "理事",
        "社長",
        "会長",
        "代表",
        "市長",
        "知事",
        "副市長",
        "町長",
        "村長",
        "区長",
    ]
)
_LABEL = re.compile(
    r"(?:氏名|お名前|名前|申請者|届出人|代表者|担当者?|記入者|委任者|代理人|受任者)(?:[(（][^)）]{0,6}[)）])?[:：] ?"
)
_LABELLED_NAME = re.compile(r"[一-龥々ヶ]{1,4}(?: ?[一-龥々ヶぁ-んァ-ヴー]{1,5})?")
_SHORT_WORD = re.compile(r"[一-龥々ぁ-んァ-ヴー]{1,3}")
_MAX_CHUNK = 8000  # Sudachi refuses inputs over ~49 kB of UTF-8


@cache
def _dictionary() -> Dictionary:
    return Dictionary(dict="core")


_local = threading.local()


def _tokenizer() -> Tokenizer:
    tokenizer: Tokenizer | None = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = _dictionary().tokenizer(SplitMode.C, fields={"pos"})
        _local.tokenizer = tokenizer
    return tokenizer


@dataclass(frozen=True, slots=True)
class _Token:
    surface: str
    start: int
    end: int
    name_part: str | None  # "姓", "名" or None


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    while start < len(text):
        end = min(len(text), start + _MAX_CHUNK)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind("。", start, end))
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    for offset, chunk in _chunks(text):
        for morpheme in _tokenizer().tokenize(chunk):
            pos = morpheme.part_of_speech()
            name_part = pos[3] if pos[1] == "固有名詞" and pos[2] == "人名" else None
            found.append(_Token(morpheme.surface(), offset + morpheme.begin(), offset + morpheme.end(), name_part))
    return found


def _name_runs(sequence: Sequence[_Token]) -> Iterator[tuple[int, int]]:
    """[first, last) index ranges of consecutive 人名 tokens; one space may separate 姓 and 名."""
    index = 0
    while index < len(sequence):
        if sequence[index].name_part is None:
            index += 1
            continue
        last = index + 1
        while last < len(sequence):
            token = sequence[last]
            if token.name_part is not None:
                last += 1
            elif token.surface in (" ", "\u3000") and last + 1 < len(sequence) and sequence[last + 1].name_part:
                last += 2
            else:
                break
        yield index, last
        index = last


def _following(sequence: Sequence[_Token], index: int, count: int = 3) -> str:
    return "".join(token.surface for token in sequence[index : index + count])


def _absorb_untagged_given_name(sequence: Sequence[_Token], first: int, last: int) -> int:
    """山田 + 花子 (not tagged) + 様: take one short word between a lone 姓 and an honorific."""
    if (
        last + 1 < len(sequence)
        and all(token.name_part == "姓" for token in sequence[first:last])
        and _starts_with_honorific(_following(sequence, last + 1))
        and _SHORT_WORD.fullmatch(sequence[last].surface)
    ):
        return last + 1
    return last


def _starts_with_honorific(following: str) -> bool:
    return any(following.startswith(word) for word in HONORIFICS)


def _in_context(sequence: Sequence[_Token], first: int, last: int) -> bool:
    """An honorific or title after the name, or a self-introduction (総務課の斎藤です / 斎藤と申します)."""
    following = _following(sequence, last)
    if _starts_with_honorific(following) or following.startswith(("と申し", "でございます")):
        return True
    return first > 0 and sequence[first - 1].surface == "の" and following.startswith("です")


class PersonNameDetector:
    kind = "person_name"
    label = "氏名"

    def detect(self, text: str) -> list[Finding]:
        sequence = tokens(text)
        findings = [*self._tagged_names(text, sequence), *self._labelled_names(text)]
        return findings

    def _tagged_names(self, text: str, sequence: Sequence[_Token]) -> Iterator[Finding]:
        for first, run_end in _name_runs(sequence):
            last = _absorb_untagged_given_name(sequence, first, run_end)
            parts = {token.name_part for token in sequence[first:last]} | ({"名"} if last > run_end else set())
            in_context = _in_context(sequence, first, last)
            if in_context or {"姓", "名"} <= parts:
                start, end = sequence[first].start, sequence[last - 1].end
                yield Finding(self.kind, start, end, text[start:end], 0.95 if in_context else 0.85)

    def _labelled_names(self, text: str) -> Iterator[Finding]:
        norm = normalized(text)
        for label in _LABEL.finditer(norm.text):
            match = _LABELLED_NAME.match(norm.text, label.end())
            if match is None:
                continue
            start, end = norm.span_in_original(*match.span())
            yield Finding(self.kind, start, end, text[start:end], 0.9)
