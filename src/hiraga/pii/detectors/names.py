"""Person names: SudachiPy 人名 tags (姓/名) plus context (様・さん・氏・殿・君…, 氏名: labels).

* 姓 + 名 tagged by Sudachi → a name without further context (山田太郎).
* A lone 姓 or 名, or a surname Sudachi reads as a place (松本, 岡田), → a name when an honorific or
  title follows (様, さん, 氏, 殿, 君, 課長 …) or in a self-introduction (総務課の斎藤です).
* A short common noun that is also a surname (林, 森, 小川) → only before 様/さん/氏/殿/君.
* Whatever follows a label such as 氏名： or 申請者： (up to two short words).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from sudachipy import Dictionary, SplitMode, Tokenizer

from hiraga.pii.base import Finding
from hiraga.pii.detectors.pattern import normalized

PERSONAL_HONORIFICS = ("様", "さま", "さん", "氏", "殿", "君", "くん", "ちゃん")
# Titles after a surname (伊藤課長). Not 市長/知事: after a place name they name an office (広島市長).
TITLES = ("先生", "議員", "教授", "弁護士", "部長", "課長", "係長", "主査", "主任", "室長", "局長", "所長", "次長",
          "審議官", "委員", "理事", "社長", "会長")  # fmt: skip
SELF_INTRODUCTIONS = ("と申し", "でございます")
# Common words that take 様/さん but are not names (皆様, 各位 …).
NOT_NAMES = frozenset(
    [
        "皆",
        "各",
        "貴",
        "神",
        "仏",
        "王",
        "客",
        "奥",
        "姉",
        "兄",
        "母",
        "父",
        "娘",
        "嫁",
        "婿",
        "方",
        "者",
        "件",
        "旨",
        "由",
        "事",
        "物",
        "人",
        "点",
        "上",
        "中",
        "前",
        "後",
        "時",
        "際",
        "所",
        "日",
        "分",
    ]
)
_LABEL = re.compile(
    r"(?:氏名|お名前|名前|申請者|届出人|代表者|担当者?|記入者|委任者|代理人|受任者)(?:[(（][^)）]{0,6}[)）])?[:：] ?"
)
_LABELLED_NAME = re.compile(r"[一-龥々ヶ]{1,4}(?: ?[一-龥々ヶぁ-んァ-ヴー]{1,5})?")
_KANJI_WORD = re.compile(r"[一-龥々ヶ]{1,3}")
_GIVEN_NAME_WORD = re.compile(r"[一-龥々ヶ]{1,3}|[ぁ-ん]{2,4}|[ァ-ヴー]{2,5}")
_UNITS = ("課", "係", "室", "局", "部", "班", "担当", "センター", "事務所")
_NUMERAL = re.compile(r"[第〇一二三四五六七八九十百千万0-9０-９]+")
_MAX_CHUNK = 8000  # Sudachi refuses inputs over ~49 kB of UTF-8
_SPACES = (" ", "\u3000")


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
    name_part: str | None  # "姓" / "名" (Sudachi 人名), "地名" (place that may be a surname), "語" (short noun)


def _name_part(surface: str, pos: tuple[str, ...]) -> str | None:
    if pos[0] != "名詞" or _NUMERAL.fullmatch(surface):
        return None
    if pos[1] == "固有名詞" and pos[2] == "人名":
        return pos[3]
    if pos[1] == "固有名詞" and pos[2] == "地名" and _KANJI_WORD.fullmatch(surface):
        return "地名"
    if pos[1] == "普通名詞" and pos[2] == "一般" and len(surface) <= 2 and _KANJI_WORD.fullmatch(surface):
        return None if surface in NOT_NAMES else "語"
    return None


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
            surface = morpheme.surface()
            part = _name_part(surface, morpheme.part_of_speech())
            found.append(_Token(surface, offset + morpheme.begin(), offset + morpheme.end(), part))
    return found


def _is_person(token: _Token) -> bool:
    return token.name_part in ("姓", "名")


def _given_name_follows(sequence: Sequence[_Token], index: int) -> int:
    """End of a 名 token right after ``index`` (one space allowed), else ``index``."""
    given = index + 1 if index < len(sequence) and sequence[index].surface in _SPACES else index
    return given + 1 if given < len(sequence) and sequence[given].name_part == "名" else index


def _name_runs(sequence: Sequence[_Token]) -> Iterator[tuple[int, int]]:
    """[first, last) ranges: consecutive 人名 tokens (one space may separate 姓 and 名), or one candidate token."""
    index = 0
    while index < len(sequence):
        if sequence[index].name_part is None:
            index += 1
            continue
        last = index + 1
        if not _is_person(sequence[index]):
            last = _given_name_follows(sequence, last)  # 林 (read as a common noun) + 花子
        while _is_person(sequence[index]) and last < len(sequence):
            token = sequence[last]
            if _is_person(token):
                last += 1
            elif token.surface in _SPACES and last + 1 < len(sequence) and _is_person(sequence[last + 1]):
                last += 2
            else:
                break
        yield index, last
        index = last


def _following(sequence: Sequence[_Token], index: int, count: int = 3) -> str:
    return "".join(token.surface for token in sequence[index : index + count])


def _absorb_untagged_given_name(sequence: Sequence[_Token], first: int, last: int) -> int:
    """山田 + 花子/さくら (not tagged) + 様: take one short word (after an optional space) before an honorific."""
    if not all(token.name_part == "姓" for token in sequence[first:last]):
        return last
    given = last + 1 if last < len(sequence) and sequence[last].surface in _SPACES else last
    if (
        given + 1 < len(sequence)
        and _following(sequence, given + 1).startswith(PERSONAL_HONORIFICS + TITLES)
        and _GIVEN_NAME_WORD.fullmatch(sequence[given].surface)
    ):
        return given + 1
    return last


def _introduced(sequence: Sequence[_Token], first: int, following: str) -> bool:
    """総務課の斎藤です / 担当の小川です: 「…の」 before and 「です」 after."""
    if first == 0 or sequence[first - 1].surface != "の" or not following.startswith("です"):
        return False
    if sequence[first].name_part != "語" or len(sequence[first].surface) == 1:
        return True
    # A common noun (小川) only after an organisational unit — not 本日の議事録です.
    return first > 1 and sequence[first - 2].surface.endswith(_UNITS)


def _context_strength(sequence: Sequence[_Token], first: int, last: int) -> int:
    """2: personal honorific (様, さん …) or self-introduction; 1: a title (課長 …); 0: none."""
    following = _following(sequence, last)
    if following.startswith(PERSONAL_HONORIFICS + SELF_INTRODUCTIONS) or _introduced(sequence, first, following):
        return 2
    if not following.startswith(TITLES):
        return 0
    # 林係長: a one-kanji common noun before a title is a surname; 庶務係長 is not.
    single_word = last - first == 1 and sequence[first].name_part == "語"
    return 2 if single_word and len(sequence[first].surface) == 1 else 1


def _looks_like_full_name(run: Sequence[_Token]) -> bool:
    """姓+名 with no context: both parts of two or more characters, or written apart (申+立人 is not a name)."""
    return any(token.surface in _SPACES for token in run) or all(len(token.surface) >= 2 for token in run)


class PersonNameDetector:
    kind = "person_name"
    label = "氏名"

    def detect(self, text: str) -> list[Finding]:
        return [*self._tagged_names(text, tokens(text)), *self._labelled_names(text)]

    def _tagged_names(self, text: str, sequence: Sequence[_Token]) -> Iterator[Finding]:
        for first, run_end in _name_runs(sequence):
            last = _absorb_untagged_given_name(sequence, first, run_end)
            parts = {token.name_part for token in sequence[first:last]} | ({"名"} if last > run_end else set())
            strength = _context_strength(sequence, first, last)
            needed = 2 if parts == {"語"} else 1  # common nouns need 様/さん/氏/殿/君
            if strength >= needed or ({"姓", "名"} <= parts and _looks_like_full_name(sequence[first:last])):
                start, end = sequence[first].start, sequence[last - 1].end
                yield Finding(self.kind, start, end, text[start:end], 0.95 if strength else 0.85)

    def _labelled_names(self, text: str) -> Iterator[Finding]:
        norm = normalized(text)
        for label in _LABEL.finditer(norm.text):
            match = _LABELLED_NAME.match(norm.text, label.end())
            if match is None:
                continue
            start, end = norm.span_in_original(*match.span())
            yield Finding(self.kind, start, end, text[start:end], 0.9)
