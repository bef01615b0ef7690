"""Document templates (送付状, 申請書, 議事録, 照会メール) that plant values through ``Document.plant``."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from corpus import (
    GIVEN_NAMES,
    SURNAMES,
    Document,
    address,
    bank_account,
    card_number,
    corporate_number,
    email,
    look_alike,
    my_number,
    phone_number,
    postal_code,
)

STATUTE_DIR = Path("/work/shared/data/egov-law-text")


def load_statute_paragraphs(directory: Path = STATUTE_DIR) -> list[str]:
    paragraphs: list[str] = []
    for path in sorted(directory.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 30 and not line.startswith(("#", "|")):
                paragraphs.append(line)
    return paragraphs


def plant_name(doc: Document, rng: random.Random) -> None:
    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
    style = rng.randrange(6)
    if style == 0:
        doc.plant("person_name", f"{surname} {given}" if rng.random() < 0.5 else surname + given)
        doc.add(rng.choice(["様", "殿", "さん"]))
    elif style == 1:
        doc.plant("person_name", surname)
        doc.add(rng.choice(["さん", "氏", "課長", "係長", "様"]))
    elif style == 2:
        doc.add(rng.choice(["氏名：", "申請者：", "担当者："]))
        doc.plant("person_name", f"{surname}　{given}")
    elif style == 3:
        doc.add(rng.choice(["総務課の", "担当の"]))
        doc.plant("person_name", surname)
        doc.add("です")
    else:
        doc.plant("person_name", surname + given)
        doc.add(rng.choice(["様", "氏", "君"]))


def letter(doc: Document, rng: random.Random) -> None:
    doc.add("〒")
    doc.plant("postal_code", postal_code(rng))
    doc.add("\n")
    doc.plant("address", address(rng))
    doc.add("\n")
    plant_name(doc, rng)
    doc.add("\n\n拝啓　時下ますますご清祥のこととお慶び申し上げます。さて、")
    doc.add(f"{look_alike(rng)}付けでご申請のありました件につき、下記のとおり通知いたします。\n")
    doc.add("ご不明な点は、担当（電話 ")
    doc.plant("phone_number", phone_number(rng))
    doc.add("、メール ")
    doc.plant("email", email(rng))
    doc.add("）までお問い合わせください。\n敬具\n")


def application_form(doc: Document, rng: random.Random) -> None:
    doc.add("【申請書】\n")
    plant_name(doc, rng)
    doc.add("\n個人番号（マイナンバー）：")
    doc.plant("my_number", my_number(rng))
    doc.add("\n住所：〒")
    doc.plant("postal_code", postal_code(rng))
    doc.add(" ")
    doc.plant("address", address(rng))
    doc.add("\n連絡先電話番号：")
    doc.plant("phone_number", phone_number(rng))
    context, number = bank_account(rng)
    doc.add(f"\n振込先：{context}")
    doc.plant("bank_account", number)
    doc.add(f"\n申請日：{look_alike(rng)}　{look_alike(rng)}\n")


def contract_minutes(doc: Document, rng: random.Random) -> None:
    doc.add("【議事録】\n日時：")
    doc.add(f"{look_alike(rng)}\n出席者：")
    for _ in range(rng.randint(2, 3)):
        plant_name(doc, rng)
        doc.add("、")
    doc.add("\n議題：委託契約の締結について\n契約相手方：株式会社サンプル（法人番号 ")
    doc.plant("corporate_number", corporate_number(rng))
    doc.add("）\n所在地：")
    doc.plant("address", address(rng))
    doc.add(f"\n契約金額は{look_alike(rng)}とし、根拠は{look_alike(rng)}による。\n")
    doc.add("支払方法：法人カード（カード番号 ")
    doc.plant("card_number", card_number(rng))
    doc.add("）による。\n")


def inquiry_mail(doc: Document, rng: random.Random) -> None:
    doc.add("件名：ご照会の件\n\n")
    plant_name(doc, rng)
    doc.add("\n\nお世話になっております。標記の件、以下のとおり確認をお願いします。\n")
    doc.add(f"・{look_alike(rng)}\n・{look_alike(rng)}\n・折り返し先：")
    doc.plant("phone_number", phone_number(rng))
    doc.add(" または ")
    doc.plant("email", email(rng))
    doc.add("\n・インボイス登録番号 T")
    doc.plant("corporate_number", corporate_number(rng))
    doc.add("\n・お支払いカード：")
    doc.plant("card_number", card_number(rng))
    doc.add("\n・本人確認書類のマイナンバー ")
    doc.plant("my_number", my_number(rng))
    doc.add("\n")


TEMPLATES: list[Callable[[Document, random.Random], None]] = [letter, application_form, contract_minutes, inquiry_mail]


def generate(count: int, seed: int, statutes: list[str]) -> list[Document]:
    rng = random.Random(seed)
    documents: list[Document] = []
    for _ in range(count):
        doc = Document()
        rng.choice(TEMPLATES)(doc, rng)
        for _ in range(rng.randint(1, 3)):  # realistic negatives: real statute text
            doc.add("\n参考：" + rng.choice(statutes) + "\n")
        documents.append(doc)
    return documents
