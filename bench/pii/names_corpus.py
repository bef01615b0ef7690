"""Held-out person names and how administrative documents write them (for ``names_run.py``).

The names here are a HELD-OUT list: none of them appears in ``corpus.py`` (the list the detector was
tuned against), in ``tests/pii`` or in ``hiraga.pii`` (the detector has no name list; it relies on
SudachiPy's dictionary and on context rules). ``held_out_check`` asserts the first part at run time.
Readings are written next to each name so that katakana forms (口座名義 ヤマダ タロウ) are the same person.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from corpus import GIVEN_NAMES as DEVELOPMENT_GIVEN
from corpus import SURNAMES as DEVELOPMENT_SURNAMES

REPOSITORY = Path(__file__).resolve().parents[2]

# (kanji, katakana reading)
SURNAMES = [
    ("原田", "ハラダ"), ("菅野", "カンノ"), ("久保", "クボ"), ("野口", "ノグチ"), ("松田", "マツダ"),
    ("千葉", "チバ"), ("岩崎", "イワサキ"), ("桑原", "クワハラ"), ("大塚", "オオツカ"), ("平野", "ヒラノ"),
    ("市川", "イチカワ"), ("杉山", "スギヤマ"), ("宮本", "ミヤモト"), ("今井", "イマイ"), ("河野", "コウノ"),
    ("藤原", "フジワラ"), ("小山", "コヤマ"), ("増田", "マスダ"), ("上田", "ウエダ"), ("丸山", "マルヤマ"),
    ("柴田", "シバタ"), ("酒井", "サカイ"), ("工藤", "クドウ"), ("横山", "ヨコヤマ"), ("宮崎", "ミヤザキ"),
    ("内田", "ウチダ"), ("高木", "タカギ"), ("安藤", "アンドウ"), ("谷口", "タニグチ"), ("大野", "オオノ"),
    ("丸岡", "マルオカ"), ("武田", "タケダ"), ("村田", "ムラタ"), ("上野", "ウエノ"), ("杉本", "スギモト"),
    ("新井", "アライ"), ("小島", "コジマ"), ("水野", "ミズノ"), ("桜井", "サクライ"), ("野村", "ノムラ"),
    ("木下", "キノシタ"), ("菊地", "キクチ"), ("佐野", "サノ"), ("大西", "オオニシ"), ("松井", "マツイ"),
    ("関口", "セキグチ"), ("望月", "モチヅキ"), ("北村", "キタムラ"), ("榎本", "エノモト"), ("熊谷", "クマガイ"),
    ("篠原", "シノハラ"), ("及川", "オイカワ"), ("戸田", "トダ"), ("二宮", "ニノミヤ"), ("東", "ヒガシ"),
    ("辻", "ツジ"), ("関", "セキ"), ("堀", "ホリ"), ("岸", "キシ"), ("秋山", "アキヤマ"),
]  # fmt: skip
GIVEN_NAMES = [
    ("和彦", "カズヒコ"), ("雅人", "マサト"), ("俊介", "シュンスケ"), ("康弘", "ヤスヒロ"), ("洋平", "ヨウヘイ"),
    ("達也", "タツヤ"), ("秀樹", "ヒデキ"), ("正和", "マサカズ"), ("孝之", "タカユキ"), ("隆史", "タカシ"),
    ("亮太", "リョウタ"), ("智也", "トモヤ"), ("慎吾", "シンゴ"), ("弘美", "ヒロミ"), ("千尋", "チヒロ"),
    ("麻衣", "マイ"), ("沙織", "サオリ"), ("奈々", "ナナ"), ("理恵", "リエ"), ("久美子", "クミコ"),
    ("典子", "ノリコ"), ("加奈子", "カナコ"), ("文子", "フミコ"), ("直美", "ナオミ"), ("香織", "カオリ"),
    ("美穂", "ミホ"), ("悠斗", "ユウト"), ("颯太", "ソウタ"), ("莉子", "リコ"), ("芽依", "メイ"),
]  # fmt: skip
ONE_CHARACTER_GIVEN_NAMES = [
    ("翼", "ツバサ"), ("実", "ミノル"), ("恵", "メグミ"), ("薫", "カオル"), ("博", "ヒロシ"), ("勇", "イサム"),
    ("豊", "ユタカ"), ("茂", "シゲル"), ("稔", "ミノル"), ("隆", "タカシ"), ("進", "ススム"), ("学", "マナブ"),
    ("剛", "ツヨシ"), ("仁", "ジン"), ("優", "ユウ"), ("舞", "マイ"), ("忍", "シノブ"), ("潤", "ジュン"),
    ("聡", "サトシ"), ("渚", "ナギサ"), ("栞", "シオリ"), ("楓", "カエデ"), ("司", "ツカサ"), ("望", "ノゾミ"),
    ("光", "ヒカル"), ("純", "ジュン"), ("翔", "ショウ"), ("瞳", "ヒトミ"), ("環", "タマキ"), ("章", "アキラ"),
]  # fmt: skip

FORMS = ("kanji_full", "kanji_one_char_given", "kanji_surname", "katakana_full")
HONORIFICS = ("様", "さん", "殿", "氏")


@dataclass(frozen=True, slots=True)
class Person:
    surname: str
    given: str
    surname_kana: str
    given_kana: str
    one_character_given: bool


def person(rng: random.Random) -> Person:
    surname, surname_kana = rng.choice(SURNAMES)
    one_character = rng.random() < 0.4
    given, given_kana = rng.choice(ONE_CHARACTER_GIVEN_NAMES if one_character else GIVEN_NAMES)
    return Person(surname, given, surname_kana, given_kana, one_character)


def half_width(katakana: str) -> str:
    """ヤマダ → ﾔﾏﾀﾞ (bank transfer forms are often printed in half-width kana)."""
    pieces = []
    for char in katakana:
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        pieces.append(_HALF.get(base, base) + "".join(_MARKS.get(mark, "") for mark in marks))
    return "".join(pieces).replace("\u3000", " ")


_FULL_KANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォッャュョー"
)
_HALF_KANA = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｯｬｭｮｰ"
_HALF = dict(zip(_FULL_KANA, _HALF_KANA, strict=True))
_MARKS = {"\u3099": "ﾞ", "\u309a": "ﾟ"}


def written(who: Person, form: str, rng: random.Random) -> str:
    """The name as a document writes it (the span to be masked; never includes an honorific)."""
    space = rng.choice(["", "", " ", "\u3000"])
    if form == "kanji_surname":
        return who.surname
    if form == "katakana_full":
        kana = who.surname_kana + rng.choice([" ", "\u3000", "", "・"]) + who.given_kana
        return half_width(kana) if rng.random() < 0.2 else kana
    return f"{who.surname}{space}{who.given}"


def form_of(who: Person, rng: random.Random) -> str:
    if rng.random() < 0.25:
        return "katakana_full"
    if rng.random() < 0.15:
        return "kanji_surname"
    return "kanji_one_char_given" if who.one_character_given else "kanji_full"


def held_out_check() -> None:
    """The held-out names share nothing with the development list in corpus.py, and no held-out name of two
    or more characters (kanji) or three or more (katakana) is written in the detector or its tests."""
    surnames = {name for name, _ in SURNAMES}
    given = {name for name, _ in GIVEN_NAMES + ONE_CHARACTER_GIVEN_NAMES}
    assert not surnames & set(DEVELOPMENT_SURNAMES), surnames & set(DEVELOPMENT_SURNAMES)
    assert not given & set(DEVELOPMENT_GIVEN), given & set(DEVELOPMENT_GIVEN)
    pairs = SURNAMES + GIVEN_NAMES + ONE_CHARACTER_GIVEN_NAMES
    words = {kanji for kanji, _ in pairs if len(kanji) >= 2} | {kana for _, kana in pairs if len(kana) >= 3}
    detector_files = (REPOSITORY / "src" / "hiraga" / "pii" / "detectors").glob("name*.py")
    for path in [*detector_files, *(REPOSITORY / "tests" / "pii").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        seen = sorted(word for word in words if word in source)
        assert not seen, f"held-out names {seen} appear in {path}"
