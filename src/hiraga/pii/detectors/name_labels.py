"""Person names after a field, role or account-holder label (氏名：, 相談者：, 口座名義人 …).

Matched on the NFKC-normalised text (half-width kana, full-width colons and spaces folded), so the
rules are written with ASCII ``:`` ``(`` and a plain space.

* Label + ``:`` (any label), or label + spaces when the label starts a word (名義 カトウ ハナコ).
* The value is a katakana name (one or two words, 中黒 or a space between) or a kanji name (surname,
  optional space, given name — one character is enough).
* Without a label, two katakana words written apart before an honorific (ツツミ・アヤネさん).
* A trailing honorific or title (様, 殿, 係長 …) is left outside the finding, so 〔氏名1〕様 reads naturally.
* Not names: organisational units (総務課, 市民課窓口), placeholders (本人, 別紙, 同上), a bare title
  (係長), or another label (依頼者 氏名：…).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hiraga.pii.base import Finding
from hiraga.pii.normalize import NormalizedText

HONORIFICS = ("様", "さま", "さん", "氏", "殿", "君", "くん", "ちゃん")
# Titles after a surname (伊藤課長). Not 市長/知事: after a place name they name an office (広島市長).
TITLES = ("先生", "議員", "教授", "弁護士", "部長", "課長", "係長", "主査", "主任", "室長", "局長", "所長", "次長",
          "審議官", "委員", "理事", "社長", "会長")  # fmt: skip
# After a label the value is a name, so more job words can be cut off its end (土屋主事, 土屋相談員).
_LABEL_TITLES = (*TITLES, "課長補佐", "補佐", "主事", "技師", "相談員", "職員")

_FIELD_LABELS = ("氏名", "お名前", "名前", "申請者", "申請者氏名", "届出人", "代表者", "記入者", "委任者", "委任者氏名",
                 "代理人", "受任者", "世帯主", "依頼者", "依頼人", "請求者", "申出人", "申出者", "本人氏名",
                 "フリガナ", "ふりがな", "よみがな", "カナ氏名")  # fmt: skip
_ROLE_LABELS = ("担当", "担当者", "担当職員", "相談者", "相談員", "対応職員", "対応者", "受付者", "受付担当", "記録者",
                "面談者", "来庁者", "来訪者", "同席者", "訪問者", "作成者")  # fmt: skip
_HOLDER_LABELS = ("名義", "名義人", "口座名義", "口座名義人", "受取人", "受取人名義", "振込名義", "振込名義人")
LABELS = _FIELD_LABELS + _ROLE_LABELS + _HOLDER_LABELS
_LABEL_WORDS = "|".join(sorted(LABELS, key=len, reverse=True))
_PARENTHESIS = r"(?:\([^)\n]{0,8}\))?"
_WORD = "[一-龥々ヶぁ-んァ-ヴー]"
_COLON_LABEL = re.compile(f"(?:{_LABEL_WORDS}){_PARENTHESIS} ?: ?")
_SPACED_LABEL = re.compile(f"(?<!{_WORD})(?:{_LABEL_WORDS}){_PARENTHESIS} +")

_KANA = "[ァ-ヴー\u3099\u309a]"
_KATAKANA_NAME = re.compile(f"{_KANA}{{2,}}(?:[ ・]{_KANA}{{2,}})?(?!{_KANA})")
# ツツミ・アヤネさん, ハセベ ユキエ様: two katakana words before an honorific (one word may be ユーザー様).
_HONOURED_KATAKANA_NAME = re.compile(f"(?<!{_KANA}){_KANA}{{2,}}[ ・]{_KANA}{{2,}}(?= ?(?:{'|'.join(HONORIFICS)}))")
_KANJI = "[一-龥々ヶ]"
_KANJI_NAME = re.compile(f"{_KANJI}{{1,4}}(?: ?{_KANJI}{{1,4}}| [ぁ-ん]{{2,4}}(?![ぁ-ん]))?")

# Values that fill a name field but are not a name.
PLACEHOLDER_WORDS = ("本人", "匿名", "別紙", "同上", "同左", "不明", "未定", "未記入", "不在", "上記", "下記", "省略",
                     "非公開", "記載", "代理", "代表", "法人", "窓口", "係員", "空欄", "各位", "全員", "一同", "当方",
                     "先方", "申請", "変更", "同", "無", "有", "済", "別", "要", "否", "後日")  # fmt: skip
_UNIT_ENDINGS = ("課", "係", "窓口", "センター", "事務所", "庁", "省", "署", "会社", "法人", "名義", "協会", "組合",
                 "委員会", "支店", "銀行", "金庫", "病院", "学校", "担当")  # fmt: skip
_LONG_UNIT_ENDINGS = ("部", "室", "局", "班")  # 阿部, 氷室: only a value of three or more characters is a unit
_KATAKANA_NOT_NAMES = ("システム", "センター", "サポート", "サービス", "カード", "メール", "ホームページ", "オンライン")


_ENDINGS = sorted(HONORIFICS + _LABEL_TITLES, key=len, reverse=True)


def strip_honorifics(value: str) -> str:
    """土屋浩二様 → 土屋浩二; 土屋係長 → 土屋 (repeatedly: 土屋課長様 → 土屋)."""
    stripped = True
    while stripped:
        stripped = False
        for ending in _ENDINGS:
            if value.endswith(ending) and len(value) > len(ending):
                value, stripped = value[: -len(ending)].rstrip(), True
                break
    return value


def _is_kanji_name(value: str) -> bool:
    compact = value.replace(" ", "")
    if not compact or compact in _LABEL_TITLES or compact.startswith(LABELS + PLACEHOLDER_WORDS):
        return False
    if compact.endswith(_UNIT_ENDINGS):
        return False
    return not (len(compact) >= 3 and compact.endswith(_LONG_UNIT_ENDINGS))


def _labelled_value(text: str, start: int) -> tuple[int, int] | None:
    """Span of the name written at ``start`` of the normalised text, honorific excluded, or None."""
    katakana = _KATAKANA_NAME.match(text, start)
    if katakana is not None:
        # システム課 / サポートセンター: a katakana word that goes on into a unit is not a name
        goes_on = re.match(_KANJI, text[katakana.end() : katakana.end() + 1]) is not None
        honoured = text.startswith(HONORIFICS, katakana.end())
        if katakana.group().startswith(_KATAKANA_NOT_NAMES) or (goes_on and not honoured):
            return None
        return katakana.span()
    kanji = _KANJI_NAME.match(text, start)
    if kanji is None or text.startswith(":", kanji.end()):  # 依頼者 氏名: — a label, not a value
        return None
    value = strip_honorifics(kanji.group()).rstrip()
    if not _is_kanji_name(value):
        return None
    return start, start + len(value)


def labelled_names(kind: str, norm: NormalizedText, original: str) -> Iterator[Finding]:
    """Names right after a label; spans in ``original``."""
    for pattern in (_COLON_LABEL, _SPACED_LABEL):
        for label in pattern.finditer(norm.text):
            span = _labelled_value(norm.text, label.end())
            if span is None:
                continue
            start, end = norm.span_in_original(*span)
            yield Finding(kind, start, end, original[start:end], 0.9)


def honoured_katakana_names(kind: str, norm: NormalizedText, original: str) -> Iterator[Finding]:
    """Katakana full names written apart before 様/さん/殿 …; spans in ``original``."""
    for match in _HONOURED_KATAKANA_NAME.finditer(norm.text):
        start, end = norm.span_in_original(*match.span())
        yield Finding(kind, start, end, original[start:end], 0.9)
