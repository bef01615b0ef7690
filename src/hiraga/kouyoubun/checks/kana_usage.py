"""漢字・仮名の使い分け of 「公用文作成の考え方」 I-2 and the 2010 訓令 that a tokenizer can decide:
形式名詞 (こと・ところ, conditional とき), 補助動詞 (～ている・～ておく・～てみる・～てください・
～ていただく …), 接続詞 (ただし・なお・かつ・したがって …), できる, and a few 助詞・助動詞."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import KANGAEKATA, KUNREI, Finding, RuleSource
from hiraga.kouyoubun.morphology import Token

Context = Callable[[list[Token], int], bool]
_PREDICATE = frozenset({"動詞", "形容詞", "助動詞", "連体詞"})


def after_te(tokens: list[Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].surface in ("て", "で") and tokens[i - 1].main_pos == "助詞"


def after_te_going(tokens: list[Token], i: int) -> bool:
    """～ていく, but not ～て行って (行う: 行って is also …を行って)."""
    return after_te(tokens, i) and not tokens[i].surface.startswith("行っ")


def after_predicate(tokens: list[Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].main_pos in _PREDICATE


def conditional(tokens: list[Token], i: int) -> bool:
    """時 as a condition (…する時は): after a predicate and before は/には/も/、; 法令 keeps 時 for a
    point in time (…した時から, …の時において)."""
    following = tokens[i + 1].surface if i + 1 < len(tokens) else ""
    return after_predicate(tokens, i) and following in ("は", "には", "も", "、")


def as_conjunction(tokens: list[Token], i: int) -> bool:
    return tokens[i].main_pos == "接続詞" or (i == 0 or tokens[i - 1].surface in ("。", "、"))


def always(tokens: list[Token], i: int) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class KanaWord:
    dictionary_form: str  # Sudachi's dictionary form of the token written in kanji
    kana_stem: str  # replaces the kanji part of the surface
    kanji_stem: str
    context: Context
    kind: str  # 形式名詞 / 補助動詞 / 接続詞 …
    section: str


_FORMAL = "I-2-(1)-イ 形式名詞"
_AUX = "I-2-(1)-イ 補助動詞"
_CONJ = "I-2-(1)-イ 接続詞"
KANA_WORDS: tuple[KanaWord, ...] = (
    KanaWord("事", "こと", "事", after_predicate, "形式名詞", _FORMAL),
    KanaWord("所", "ところ", "所", after_predicate, "形式名詞", _FORMAL),
    KanaWord("時", "とき", "時", conditional, "形式名詞（条件）", _FORMAL),
    KanaWord("下さる", "くださ", "下さ", after_te, "補助動詞", _AUX),
    KanaWord("頂く", "いただ", "頂", after_te, "補助動詞", _AUX),
    KanaWord("居る", "い", "居", after_te, "補助動詞", _AUX),
    KanaWord("置く", "お", "置", after_te, "補助動詞", _AUX),
    KanaWord("見る", "み", "見", after_te, "補助動詞", _AUX),
    KanaWord("仕舞う", "しま", "仕舞", after_te, "補助動詞", _AUX),
    KanaWord("欲しい", "ほし", "欲し", after_te, "補助形容詞", _AUX),
    KanaWord("行く", "い", "行", after_te_going, "補助動詞", _AUX),
    KanaWord("来る", "く", "来", after_te, "補助動詞", _AUX),
    KanaWord("出来る", "でき", "出来", always, "動詞「できる」", "I-2-(1)-イ"),
    KanaWord("但し", "ただし", "但し", as_conjunction, "接続詞", _CONJ),
    KanaWord("尚", "なお", "尚", as_conjunction, "接続詞", _CONJ),
    KanaWord("且つ", "かつ", "且つ", as_conjunction, "接続詞", _CONJ),
    KanaWord("従って", "したがって", "従って", as_conjunction, "接続詞", _CONJ),
    KanaWord("即ち", "すなわち", "即ち", as_conjunction, "接続詞", _CONJ),
    KanaWord("然し", "しかし", "然し", as_conjunction, "接続詞", _CONJ),
)
_BY_FORM = {w.dictionary_form: w for w in KANA_WORDS}


class KanaUsageRule:
    family = "kana"
    name = "漢字・仮名の使い分け"

    def check(self, document: Document) -> Iterable[Finding]:
        for sentence in document.sentences:
            tokens = document.tokens(sentence)
            for i, token in enumerate(tokens):
                word = _BY_FORM.get(token.dictionary_form)
                if word is None or word.kanji_stem not in token.surface or not word.context(tokens, i):
                    continue
                yield Finding(
                    token.start,
                    token.end,
                    "kana.word",
                    self.name,
                    f"{word.kind}は仮名で書きます（「{token.surface}」）。",
                    token.surface.replace(word.kanji_stem, word.kana_stem, 1),
                    RuleSource(KANGAEKATA, f"{word.section}（{KUNREI}）"),
                )
