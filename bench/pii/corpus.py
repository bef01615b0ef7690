"""Synthetic Japanese administrative documents with planted PII and ground-truth spans.

Written from the formats' public definitions, independently of ``hiraga.pii`` (it imports nothing
from it): check digits, card brands, telephone numbering, postal-code and address shapes are
generated here from scratch. Real statute paragraphs (e-Gov 法令) are mixed in as realistic
negatives, together with look-alikes: dates, amounts, article numbers, 12-digit numbers with a
wrong check digit, 13-digit numbers with a wrong leading check digit, non-Luhn 16-digit numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

KINDS = (
    "my_number",
    "corporate_number",
    "phone_number",
    "email",
    "card_number",
    "postal_code",
    "address",
    "bank_account",
    "person_name",
)
WIDE = str.maketrans("0123456789-()@.", "０１２３４５６７８９－（）＠．")


@dataclass
class Document:
    text: str = ""
    truth: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, start, end)

    def add(self, text: str) -> None:
        self.text += text

    def plant(self, kind: str, value: str) -> None:
        self.truth.append((kind, len(self.text), len(self.text) + len(value)))
        self.text += value


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def maybe_wide(rng: random.Random, value: str, share: float = 0.2) -> str:
    return value.translate(WIDE) if rng.random() < share else value


# ---- identification numbers -------------------------------------------------------------


def my_number_check(body: str) -> int:
    # 検査用数字 = 11 - (Σ Pn×Qn mod 11), 0 if the remainder is 0 or 1; Qn = n+1 (n<=6), n-5 (n>=7), n from the right
    weights = {n: (n + 1 if n <= 6 else n - 5) for n in range(1, 12)}
    total = sum(int(body[11 - n]) * weights[n] for n in range(1, 12))
    return 0 if total % 11 < 2 else 11 - total % 11


def my_number(rng: random.Random, valid: bool = True) -> str:
    body = digits(rng, 11)
    check = my_number_check(body)
    if not valid:
        check = (check + rng.randint(1, 9)) % 10
    number = body + str(check)
    style = rng.randrange(4)
    if style == 1:
        number = f"{number[:4]} {number[4:8]} {number[8:]}"
    elif style == 2:
        number = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    return maybe_wide(rng, number)


def corporate_number(rng: random.Random, valid: bool = True) -> str:
    base = digits(rng, 12)
    odd_even = [int(base[11 - i]) * (2 if (i + 1) % 2 == 0 else 1) for i in range(12)]
    check = 9 - sum(odd_even) % 9
    if not valid:
        check = check % 9 + 1
    return maybe_wide(rng, str(check) + base)


def luhn_fill(prefix: str, length: int, rng: random.Random) -> str:
    partial = prefix + digits(rng, length - len(prefix) - 1)
    for check in range(10):
        candidate = partial + str(check)
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value // 10 + value % 10
        if total % 10 == 0:
            return candidate
    raise AssertionError


CARD_BRANDS = (  # (issuer prefix choices, length)
    (["4"], 16),  # Visa
    (["51", "52", "53", "54", "55", "2221", "2720"], 16),  # Mastercard
    ([str(p) for p in range(3528, 3590)], 16),  # JCB
    (["34", "37"], 15),  # American Express
    (["36"], 14),  # Diners Club
    (["62"], 19),  # UnionPay
    (["4"], 13),  # old Visa
)


def card_number(rng: random.Random) -> str:
    prefixes, length = rng.choice(CARD_BRANDS)
    number = luhn_fill(rng.choice(prefixes), length, rng)
    separator = rng.choice(["", " ", "-"])
    by_four = [number[i : i + 4] for i in range(0, length, 4)]
    groups = [number[:4], number[4:10], number[10:]] if length == 15 else by_four
    return maybe_wide(rng, separator.join(groups), 0.1)


def non_luhn_sixteen(rng: random.Random) -> str:
    number = luhn_fill("4", 16, rng)
    return number[:-1] + str((int(number[-1]) + 3) % 10)


# ---- contact details ---------------------------------------------------------------------

# (area code, digits in the local exchange part) following 総務省の市外局番表
FIXED_AREAS = [("03", 4), ("06", 4), ("011", 3), ("022", 3), ("045", 3), ("052", 3), ("092", 3), ("075", 3),
               ("0466", 2), ("0463", 2), ("0285", 2), ("01267", 1), ("04992", 1)]  # fmt: skip


def phone_number(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        area, exchange = rng.choice(FIXED_AREAS)
        # 市内局番 never starts with 0 (it would be read as a new area code)
        parts = [area, str(rng.randint(2, 9)) + digits(rng, exchange - 1), digits(rng, 4)]
    elif kind == 1:
        parts = [rng.choice(["090", "080", "070"]), digits(rng, 4), digits(rng, 4)]
    elif kind == 2:
        parts = ["050", digits(rng, 4), digits(rng, 4)]
    elif kind == 3:
        parts = ["0120", digits(rng, 3), digits(rng, 3)]
    else:
        parts = ["0800", digits(rng, 3), digits(rng, 4)]
    style = rng.randrange(6)
    if style == 0:
        text = "".join(parts)
    elif style == 1 and kind == 0:
        text = f"({parts[0]}){parts[1]}-{parts[2]}"
    elif style == 2 and kind == 1:
        text = f"+81-{parts[0][1:]}-{parts[1]}-{parts[2]}"
    elif style == 3:
        text = " ".join(parts)
    else:
        text = "-".join(parts)
    return maybe_wide(rng, text)


LOCAL_PARTS = ["taro.yamada", "h-suzuki", "k_tanaka01", "soumu-ka", "info", "kikaku.section", "m.sato+kaigi"]
DOMAINS = ["city.yokohama.lg.jp", "pref.chiba.lg.jp", "soumu.go.jp", "example.co.jp", "mail.example.com"]


def email(rng: random.Random) -> str:
    value = f"{rng.choice(LOCAL_PARTS)}@{rng.choice(DOMAINS)}"
    return value.translate(str.maketrans("@.", "＠．")) if rng.random() < 0.1 else value


# ---- addresses ---------------------------------------------------------------------------

PLACES = [  # (prefecture, municipality, town)
    ("東京都", "千代田区", "霞が関"), ("東京都", "新宿区", "西新宿"), ("東京都", "西多摩郡奥多摩町", "氷川"),
    ("神奈川県", "横浜市中区", "日本大通"), ("神奈川県", "藤沢市", "朝日町"), ("大阪府", "大阪市北区", "中之島"),
    ("愛知県", "名古屋市中区", "三の丸"), ("北海道", "札幌市中央区", "北一条西"), ("福岡県", "福岡市博多区", "東公園"),
    ("埼玉県", "さいたま市浦和区", "高砂"), ("宮城県", "仙台市青葉区", "本町"), ("広島県", "広島市中区", "基町"),
    ("京都府", "京都市中京区", "寺町通御池上る上本能寺前町"), ("長野県", "長野市", "大字南長野字幅下"),
    ("沖縄県", "島尻郡与那原町", "字上与那原"), ("千葉県", "千葉市中央区", "市場町"),
    ("兵庫県", "神戸市中央区", "加納町"),
]  # fmt: skip
KANJI_DIGITS = "〇一二三四五六七八九"


def block_number(rng: random.Random) -> str:
    a, b, c = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 25)
    return rng.choice(
        [
            f"{a}-{b}-{c}",
            f"{a}丁目{b}番{c}号",
            f"{KANJI_DIGITS[a]}丁目{b}番{c}号",
            f"{rng.randint(1, 999)}番地",
            f"{b}番地の{c}",
            f"{a}-{b}",
        ]
    )


def address(rng: random.Random) -> str:
    prefecture, municipality, town = rng.choice(PLACES)
    value = (prefecture if rng.random() < 0.8 else "") + municipality + town + block_number(rng)
    if rng.random() < 0.2:
        value += (
            f" {rng.choice(['コーポ山王', 'ハイツ緑町', 'グランドメゾン'])}{rng.randint(1, 9)}0{rng.randint(1, 9)}号室"
        )
    return maybe_wide(rng, value, 0.1)


def postal_code(rng: random.Random) -> str:
    code = f"{rng.randint(0, 999):03d}-{rng.randint(0, 9999):04d}"
    return maybe_wide(rng, code, 0.15)


# ---- people and accounts -----------------------------------------------------------------

SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
    "山崎",
    "森",
    "池田",
    "橋本",
    "阿部",
    "石川",
    "山下",
    "中島",
    "石井",
    "小川",
    "前田",
    "岡田",
    "長谷川",
    "藤田",
    "後藤",
    "近藤",
    "村上",
    "遠藤",
    "青木",
    "坂本",
]
GIVEN_NAMES = [
    "太郎",
    "一郎",
    "健一",
    "大輔",
    "翔太",
    "蓮",
    "悠真",
    "陽翔",
    "湊",
    "拓也",
    "直樹",
    "和也",
    "花子",
    "美咲",
    "結衣",
    "陽菜",
    "さくら",
    "愛",
    "真由美",
    "恵子",
    "裕子",
    "由美",
    "明美",
    "智子",
    "健太",
    "誠",
    "浩",
    "修",
    "彩",
    "葵",
]


def bank_account(rng: random.Random) -> tuple[str, str]:
    """(context before the number, the account number)."""
    bank = rng.choice(["みずほ銀行", "三菱UFJ銀行", "三井住友銀行", "りそな銀行", "横浜銀行", "城南信用金庫"])
    branch = rng.choice(["霞が関支店", "本店営業部", "新宿支店", "県庁支店", "市役所出張所"])
    kind = rng.choice(["普通", "普通預金", "当座", "当座預金"])
    number = maybe_wide(rng, digits(rng, 7), 0.15)
    return rng.choice([f"{bank} {branch} {kind} ", f"{bank}{branch}　{kind}口座 番号 ", "口座番号："]), number


# ---- look-alikes -------------------------------------------------------------------------


def look_alike(rng: random.Random) -> str:
    era_year = rng.randint(1, 7)
    choices = [
        f"令和{era_year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        f"{2019 + era_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        f"{2019 + era_year}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}",
        f"{rng.randint(1, 999):,}{rng.randint(100, 999)},{rng.randint(100, 999)}円",
        f"{rng.randint(10**11, 10**12 - 1)}円",
        f"第{rng.choice(['十二', '三十四', '百二', '五'])}条第{rng.choice(['一', '二', '三'])}項",
        f"第{rng.randint(1, 300)}条の{rng.randint(2, 5)}",
        f"整理番号 {my_number(rng, valid=False)}",
        f"管理番号 {corporate_number(rng, valid=False)}",
        f"受付番号 {non_luhn_sixteen(rng)}",
        f"文書番号 {digits(rng, 7)}",
        f"品番 {digits(rng, 3)}-{digits(rng, 4)}",
        f"内線 {rng.randint(1000, 9999)}",
        f"{rng.randint(9, 12)}:00～{rng.randint(13, 17)}:30",
    ]
    return rng.choice(choices)
