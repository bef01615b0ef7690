"""Administrative documents (申請書, 相談記録, 口座振込依頼, 窓口対応記録, メール) that plant person names.

Each planted name records its written form (``names_corpus.FORMS``), the context it stands in
(``CONTEXTS``) and, when an honorific follows, where the honorific ends, so the benchmark can check that
the honorific stays outside the placeholder. Look-alikes that are not names (担当：総務課, 相談者：本人,
名義：法人) are mixed in, as are real statute paragraphs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from corpus import address, bank_account, email, look_alike, phone_number, postal_code
from names_corpus import HONORIFICS, Person, form_of, person, written

CONTEXTS = ("honorific", "field_label", "role_label", "account_holder")
FIELD_LABELS = ("氏名：", "氏名　", "お名前：", "申請者：", "申請者氏名：", "届出人：", "委任者氏名：", "世帯主：")
KANA_FIELD_LABELS = ("フリガナ：", "氏名（フリガナ）：", "氏名（カナ）：", "ふりがな：")
ROLE_LABELS = ("相談者：", "対応職員：", "担当職員：", "受付者：", "対応者：", "記録者：", "相談員：", "面談者：",
               "担当：", "来庁者：", "同席者：")  # fmt: skip
ROLE_PHRASES = (("担当の", "が対応しました。"), ("担当の", "より折り返します。"), ("担当の", "です。"),
                ("対応職員の", "が説明した。"), ("相談員の", "から助言した。"))  # fmt: skip
HOLDER_LABELS = ("名義 ", "名義：", "口座名義人：", "口座名義：", "名義人：", "受取人名義：", "口座名義人 ")
NOT_NAMES = ("担当：総務課", "担当の職員が確認した。", "相談者：本人", "名義：法人名義", "対応職員：窓口担当",
             "相談者：匿名", "担当：市民課窓口", "氏名：別紙のとおり", "担当の係長が確認する。",
             "名義 同上")  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlantedName:
    form: str
    context: str
    start: int
    end: int
    honorific_end: int | None  # end of a following honorific, which must stay outside the placeholder


@dataclass
class NamedDocument:
    text: str = ""
    names: list[PlantedName] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.text += text

    def plant(self, who: Person, form: str, context: str, rng: random.Random, honorific: str = "") -> None:
        value = written(who, form, rng)
        start = len(self.text)
        self.text += value + honorific
        honorific_end = len(self.text) if honorific else None
        self.names.append(PlantedName(form, context, start, start + len(value), honorific_end))


def honoured(doc: NamedDocument, rng: random.Random, after: str = "") -> None:
    who = person(rng)
    doc.plant(who, form_of(who, rng), "honorific", rng, rng.choice(HONORIFICS))
    doc.add(after)


def field_labelled(doc: NamedDocument, rng: random.Random) -> Person:
    who = person(rng)
    doc.add(rng.choice(FIELD_LABELS))
    form = form_of(who, rng)
    if form == "kanji_surname":  # a 氏名 field holds the full name
        form = "kanji_one_char_given" if who.one_character_given else "kanji_full"
    doc.plant(who, form, "field_label", rng, "様" if rng.random() < 0.1 else "")
    doc.add("\n")
    if rng.random() < 0.6:
        doc.add(rng.choice(KANA_FIELD_LABELS))
        doc.plant(who, "katakana_full", "field_label", rng)
        doc.add("\n")
    return who


def role_labelled(doc: NamedDocument, rng: random.Random) -> None:
    who = person(rng)
    form = rng.choice(["kanji_surname", "kanji_surname", form_of(who, rng)])
    form = "kanji_surname" if form == "katakana_full" else form
    if rng.random() < 0.5:
        doc.add(rng.choice(ROLE_LABELS))
        doc.plant(who, form, "role_label", rng)
        doc.add("\n")
    else:
        before, after = rng.choice(ROLE_PHRASES)
        doc.add(before)
        doc.plant(who, form, "role_label", rng)
        doc.add(after)


def account_holder(doc: NamedDocument, rng: random.Random) -> None:
    context, number = bank_account(rng)
    doc.add(f"振込先：{context}{number}\n")
    who = person(rng)
    doc.add(rng.choice(HOLDER_LABELS))
    doc.plant(who, "katakana_full" if rng.random() < 0.85 else form_of(who, rng), "account_holder", rng)
    doc.add(rng.choice(["\n", "（本人名義）\n", " 様\n" if rng.random() < 0.3 else "\n"]))


def not_a_name(doc: NamedDocument, rng: random.Random) -> None:
    doc.add(rng.choice(NOT_NAMES) + "\n")


def application(doc: NamedDocument, rng: random.Random) -> None:
    doc.add(
        f"【{rng.choice(['児童手当', '住民票の写し交付', '給付金', '就学援助'])}申請書】\n申請日：{look_alike(rng)}\n"
    )
    field_labelled(doc, rng)
    doc.add(f"住所：〒{postal_code(rng)} {address(rng)}\n電話：{phone_number(rng)}\n")
    account_holder(doc, rng)
    not_a_name(doc, rng)
    role_labelled(doc, rng)


def consultation_record(doc: NamedDocument, rng: random.Random) -> None:
    doc.add(f"【相談記録】\n相談日時：{look_alike(rng)}\n")
    role_labelled(doc, rng)
    role_labelled(doc, rng)
    doc.add("相談内容：")
    honoured(doc, rng, "より、家賃の支払いについて相談があった。")
    role_labelled(doc, rng)
    not_a_name(doc, rng)
    doc.add(f"連絡先：{phone_number(rng)}\n")


def transfer_request(doc: NamedDocument, rng: random.Random) -> None:
    doc.add("【口座振込依頼書】\n依頼者 ")
    field_labelled(doc, rng)
    account_holder(doc, rng)
    if rng.random() < 0.5:
        account_holder(doc, rng)
    doc.add(f"振込金額：{look_alike(rng)}\n")
    not_a_name(doc, rng)


def counter_record(doc: NamedDocument, rng: random.Random) -> None:
    doc.add(f"【窓口対応記録】{look_alike(rng)}\n来庁者：")
    honoured(doc, rng, "（代理人　")
    honoured(doc, rng, "）\n")
    role_labelled(doc, rng)
    doc.add("用件：転入届の記載方法について説明。")
    role_labelled(doc, rng)
    not_a_name(doc, rng)


def mail(doc: NamedDocument, rng: random.Random) -> None:
    doc.add("件名：提出書類のご確認\n\n")
    honoured(doc, rng, "\n\nいつもお世話になっております。")
    role_labelled(doc, rng)
    doc.add("\nご提出いただいた書類のうち、")
    honoured(doc, rng, "の委任状に押印がありませんでした。\n")
    doc.add(f"お手数ですが {email(rng)} までご連絡ください。\n")


TEMPLATES: list[Callable[[NamedDocument, random.Random], None]] = [
    application,
    consultation_record,
    transfer_request,
    counter_record,
    mail,
]


def generate(count: int, seed: int, statutes: list[str]) -> list[NamedDocument]:
    rng = random.Random(seed)
    documents: list[NamedDocument] = []
    for _ in range(count):
        doc = NamedDocument()
        rng.choice(TEMPLATES)(doc, rng)
        doc.add("\n参考：" + rng.choice(statutes) + "\n")
        documents.append(doc)
    return documents
