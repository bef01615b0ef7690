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
from hiraga.pii.detectors.name_labels import HONORIFICS as PERSONAL_HONORIFICS
from hiraga.pii.detectors.name_labels import TITLES, honoured_katakana_names, labelled_names
from hiraga.pii.detectors.pattern import normalized

SELF_INTRODUCTIONS = ("と申し", "でございます")
# 担当の + a name without honorific (担当の土屋より折り返します); the name must end at a particle.
ROLE_PHRASES = ("担当の", "担当者の", "担当職員の", "対応職員の", "相談員の", "対応者の", "受付者の", "記録者の",
                "係員の")  # fmt: skip
_AFTER_ROLE = ("が", "より", "から", "です", "は", "に", "と", "で", "へ", "まで", "も", "、", "。", "\n", " ",
               "\u3000", "(", "（", ")", "）")  # fmt: skip
# Last kanji of many surnames: lets a two-kanji common noun after a role phrase be a surname (小松, 土屋).
SURNAME_ENDINGS = tuple("田山川原野島村本井木藤沢澤崎岡谷橋坂松池浜森林宮口部内尾辺瀬倉城江上下屋")
_ROLE_NOUNS = frozenset(["職員", "係員", "窓口", "部署", "部局", "上司", "本人", "社員", "委員"])
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
_KANJI_WORD = re.compile(r"[一-龥々ヶ]{1,3}")
_KATAKANA_WORD = re.compile(r"[ァ-ヴーｦ-ﾟ]{2,}")
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
    # "姓" / "名" (Sudachi 人名), "地名" (place that may be a surname), "語" (short noun),
    # "固有" (other proper noun), "カナ" (katakana proper noun or word not in the dictionary: ツツミアヤネ)
    name_part: str | None


def _name_part(surface: str, pos: tuple[str, ...], unknown: bool) -> str | None:
    if pos[0] != "名詞" or _NUMERAL.fullmatch(surface):
        return None
    if pos[1] == "固有名詞" and pos[2] == "人名":
        return pos[3]
    if (unknown or pos[1] == "固有名詞") and _KATAKANA_WORD.fullmatch(surface):
        return "カナ"
    if pos[1] == "固有名詞" and pos[2] in ("地名", "一般") and _KANJI_WORD.fullmatch(surface):
        return "地名" if pos[2] == "地名" else "固有"
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
            part = _name_part(surface, morpheme.part_of_speech(), morpheme.is_oov())
            found.append(_Token(surface, offset + morpheme.begin(), offset + morpheme.end(), part))
    return found


def _is_person(token: _Token) -> bool:
    return token.name_part in ("姓", "名")


def _given_name_follows(sequence: Sequence[_Token], index: int) -> int:
    """End of a 名 token right after ``index`` (one space allowed), else ``index``.

    After an unknown katakana word any katakana name part will do (ﾂﾂﾐ ｱﾔﾈ).
    """
    given = index + 1 if index < len(sequence) and sequence[index].surface in _SPACES else index
    wanted = ("名", "姓", "カナ") if sequence[index - 1].name_part == "カナ" else ("名",)
    return given + 1 if given < len(sequence) and sequence[given].name_part in wanted else index


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
    """山田 + 花子/さくら (not tagged) + 様: take one short word (after an optional space) before an honorific.

    A one-kanji common noun is a surname here only when a space follows it (堤 綾音様).
    """
    spaced = last < len(sequence) and sequence[last].surface in _SPACES
    one_kanji_word = last - first == 1 and sequence[first].name_part == "語" and len(sequence[first].surface) == 1
    if not (all(token.name_part == "姓" for token in sequence[first:last]) or (one_kanji_word and spaced)):
        return last
    given = last + 1 if spaced else last
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


def _ends_at_particle(sequence: Sequence[_Token], index: int) -> bool:
    return index == len(sequence) or sequence[index].surface.startswith(_AFTER_ROLE)


def _could_follow_a_role(word: _Token, alone: bool) -> bool:
    """A word after 担当の that may start a name: not a unit or title (係長); a two-kanji common noun only
    with a surname-like ending (小松, 土屋; not 職員, 窓口); never an unknown katakana word."""
    if word.name_part == "カナ" or word.surface in _UNITS or word.surface.endswith(TITLES):
        return False
    if alone and word.name_part == "語" and len(word.surface) > 1:
        return word.surface not in _ROLE_NOUNS and word.surface.endswith(SURNAME_ENDINGS)
    return True


def _role_name_end(sequence: Sequence[_Token], first: int, last: int) -> int | None:
    """担当の土屋より / 対応職員の岡崎守が / 担当の大橋 忠です: end of the name after a role phrase, or None.

    The name must end at a particle or punctuation; an untagged one-to-three-kanji given name may follow
    the surname (after an optional space).
    """
    before = "".join(token.surface for token in sequence[max(0, first - 3) : first])
    if not before.endswith(ROLE_PHRASES) or not _could_follow_a_role(sequence[first], last - first == 1):
        return None
    given = last + 1 if last < len(sequence) and sequence[last].surface in _SPACES else last
    takes_given = given < len(sequence) and _KANJI_WORD.fullmatch(sequence[given].surface) is not None
    end = given + 1 if takes_given and _ends_at_particle(sequence, given + 1) else last
    name = "".join(token.surface for token in sequence[first:end])
    return end if _ends_at_particle(sequence, end) and not name.endswith(TITLES) else None


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


def _looks_like_full_name(sequence: Sequence[_Token], first: int, last: int) -> bool:
    """姓+名 with no context: written apart, both parts of two or more characters, or a surname of two or
    more characters with a one-character given name not run into a further kanji word (岡崎守が, not
    新行+労+法); 申+立人 is not a name."""
    run = sequence[first:last]
    if any(token.surface in _SPACES for token in run) or all(len(token.surface) >= 2 for token in run):
        return True
    run_on = last < len(sequence) and _KANJI_WORD.match(sequence[last].surface) is not None
    return run[0].name_part == "姓" and len(run[0].surface) >= 2 and run[-1].name_part == "名" and not run_on


class PersonNameDetector:
    kind = "person_name"
    label = "氏名"

    def detect(self, text: str) -> list[Finding]:
        norm = normalized(text)
        return [
            *self._tagged_names(text, tokens(text)),
            *labelled_names(self.kind, norm, text),
            *honoured_katakana_names(self.kind, norm, text),
        ]

    def _tagged_names(self, text: str, sequence: Sequence[_Token]) -> Iterator[Finding]:
        for first, run_end in _name_runs(sequence):
            last = _absorb_untagged_given_name(sequence, first, run_end)
            role_end = _role_name_end(sequence, first, last)
            if role_end is not None:
                start, end = sequence[first].start, sequence[role_end - 1].end
                yield Finding(self.kind, start, end, text[start:end], 0.95)
                continue
            parts = {token.name_part for token in sequence[first:last]} | ({"名"} if last > run_end else set())
            strength = _context_strength(sequence, first, last)
            needed = 2 if parts - {None} <= {"語", "カナ", "固有"} else 1  # common or unknown words need 様/さん …
            if strength >= needed or ({"姓", "名"} <= parts and _looks_like_full_name(sequence, first, last)):
                start, end = sequence[first].start, sequence[last - 1].end
                yield Finding(self.kind, start, end, text[start:end], 0.95 if strength else 0.85)
