"""Postal codes (〒123-4567, or 123-4567 beside 郵便番号/an address) and street addresses."""

from __future__ import annotations

import re

from hiraga.pii.detectors.pattern import PatternDetector, preceding

PREFECTURES = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
]

_PREFECTURE = "(?:" + "|".join(PREFECTURES) + ")"
_NAME_CHAR = r"[一-龥々〆ヶケヵがのノッぁ-んァ-ヴー]"
# 市区町村: one to three units such as 横浜市中区, 西多摩郡奥多摩町, 千代田区.
_MUNICIPALITY = r"(?:" + _NAME_CHAR + r"{1,6}?(?:市|区|郡|町|村)){1,3}"
_KANJI_NUMBER = r"[一二三四五六七八九十〇]+"
_NUMBER = r"(?:[0-9]+|" + _KANJI_NUMBER + r")"
# 番地: 1-2-3 / 1丁目2番3号 / 一丁目3番1号 / 123番地 / 5番地の2; an optional room number.
_CHOME = _NUMBER + r"丁目"
_BANCHI = _NUMBER + r"(?:(?:番地?|-)(?:の)?" + _NUMBER + r"(?:号|-" + _NUMBER + r"号?)?|番地)"
_JO = r"[東西南北]?" + _NUMBER + r"条[東西南北]?"  # 札幌: 北1条西2丁目
# 番地: 1-2-3 / 1丁目2番3号 / 一丁目3番1号 / 123番地 / 5番地の2 / 北一条西五丁目23番6号.
_BLOCK = r"(?:" + _JO + _CHOME + r"(?:" + _BANCHI + r"|" + _NUMBER + r"番?)?|(?:" + _CHOME + r")?" + _BANCHI + r")"
_BUILDING = r"(?: ?[^\s、。,]{1,20}?[0-9]+号室)?"

_ADDRESS = re.compile(
    r"(?:" + _PREFECTURE + r" ?)?" + _MUNICIPALITY + _NAME_CHAR + r"{0,16}?" + _BLOCK + _BUILDING + r"(?![0-9])"
)


class AddressDetector(PatternDetector):
    """都道府県 (optional) + 市区町村 + 町域 + 番地, e.g. 東京都千代田区霞が関1-3-1, 横浜市中区日本大通1番地."""

    kind = "address"
    label = "住所"
    pattern = _ADDRESS

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        value = match.group()
        if value.startswith(tuple(PREFECTURES)):
            return 0.95
        # Without a prefecture, a 市, 区 or 郡 must anchor it (町/村 alone are too common in prose).
        return 0.8 if _ANCHOR.match(value) else None


_ANCHOR = re.compile(_NAME_CHAR + r"{1,6}?[市区郡]")
_POSTAL_CONTEXT = ("郵便番号", "〒", "住所", "所在地", "送付先")


class PostalCodeDetector(PatternDetector):
    """〒 always makes a postal code; a bare 123-4567 only next to 郵便番号/住所 or before a prefecture."""

    kind = "postal_code"
    label = "郵便番号"
    pattern = re.compile(
        r"(?P<mark>〒 ?)?(?<![0-9-])(?P<value>[0-9]{3}-[0-9]{4}|[0-9]{7})(?![0-9]|-[0-9])(?P<after> ?"
        + _PREFECTURE
        + r")?"
    )

    def judge(self, text: str, match: re.Match[str]) -> float | None:
        if match.group("mark") or match.group("after"):
            return 1.0
        context = preceding(text, match.start(), 10)
        if any(word in context for word in _POSTAL_CONTEXT) and "-" in match.group("value"):
            return 0.9
        if "郵便番号" in context:
            return 0.9
        return None
