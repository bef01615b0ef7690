"""Numbers, amounts and dates of a model's text must stand in its source: found in code, not trusted
to the model. Each fact is read as a value, so 「1万8千人」, 「18,000人」 and "18 thousand" are one
number and 「令和9年4月1日」, 「2027/4/1」 and "April 1, 2027" one date; a fact that says less than
the source (「4月1日」 for 「令和6年4月1日」) is supported, one that says more or otherwise is not."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "大正": 1911, "明治": 1867}
MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
MONTH = r"(?P<{}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
ORDINAL = r"(?:st|nd|rd|th)?"
DATE_PATTERNS = (
    rf"(?P<era>{'|'.join(ERAS)})(?P<ey>元|\d{{1,2}})年度?(?:(?P<em>\d{{1,2}})月(?:(?P<ed>\d{{1,2}})日)?)?",
    r"(?P<y>\d{4})年度?(?:(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?)?",
    r"(?P<sy>\d{4})[/.-](?P<sm>\d{1,2})[/.-](?P<sd>\d{1,2})",
    r"(?P<jm>\d{1,2})月(?:(?P<jd>\d{1,2})日)?",
    MONTH.format("am") + rf"\s+(?P<ad>\d{{1,2}}){ORDINAL},?\s+(?P<ay>\d{{4}})",
    rf"(?P<bd>\d{{1,2}}){ORDINAL}\s+" + MONTH.format("bm") + r",?\s+(?P<by>\d{4})",
    MONTH.format("cm") + r",?\s+(?P<cy>\d{4})",
    MONTH.format("dm") + rf"\s+(?P<dd>\d{{1,2}}){ORDINAL}\b",
)
KANJI_UNITS = {"兆": 10**12, "億": 10**8, "万": 10**4, "千": 1000, "百": 100}
ENGLISH_UNITS = {"trillion": 10**12, "billion": 10**9, "million": 10**6, "thousand": 1000}
NUMBER = (
    r"(?P<num>\d+(?:\.\d+)?(?:[兆億万千百]\d*(?:\.\d+)?)*[兆億万千百]?)"
    r"(?:\s*(?P<pct>%|％|パーセント|percent)|\s+(?P<eng>trillion|billion|million|thousand)\b)?"
)
FACT = re.compile("|".join(f"(?:{p})" for p in (*DATE_PATTERNS, NUMBER)), re.IGNORECASE)
SEPARATED = re.compile(r"(?<=\d)[,，](?=\d{3})")
PIECE = re.compile(r"(\d+(?:\.\d+)?)([兆億万千百]?)")


@dataclass(frozen=True, slots=True)
class Fact:
    """A date (year, month, day; any may be None) or a number (value; percent or not), with the
    text it was written as."""

    text: str
    kind: str  # "date" | "number" | "percent"
    year: int | None = None
    month: int | None = None
    day: int | None = None
    value: float | None = None

    def within(self, other: Fact) -> bool:
        """Does ``other`` state this fact (or more of it)?"""
        if self.kind == "date" and other.kind == "date":
            mine, theirs = (self.year, self.month, self.day), (other.year, other.month, other.day)
            return all(a is None or a == b for a, b in zip(mine, theirs, strict=True))
        if self.kind == "number" and other.kind == "date":  # a bare year, e.g. "in 2027"
            return self.value == other.year
        if self.kind == "date" and other.kind == "number":
            return self.month is None and self.day is None and self.year == other.value
        return self.kind == other.kind and self.value is not None and self.value == other.value


def normalise(text: str) -> str:
    """NFKC (全角→半角 digits and signs) and thousands separators removed."""
    return SEPARATED.sub("", unicodedata.normalize("NFKC", text))


def kanji_value(written: str) -> float:
    """「1万8千」 → 18000, 「4億」 → 4e8, 「12.5」 → 12.5."""
    total, section = 0.0, 0.0
    for digits, unit in PIECE.findall(written):
        number = float(digits)
        if unit in ("兆", "億", "万"):
            total += (section + number) * KANJI_UNITS[unit]
            section = 0.0
        else:
            section += number * KANJI_UNITS.get(unit, 1)
    return total + section


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _month(written: str | None) -> int | None:
    if written is None:
        return None
    return int(written) if written.isdigit() else MONTHS[written.lower()]


def _date(match: re.Match[str]) -> Fact | None:
    g = match.groupdict()
    text = match.group(0)
    if g["era"]:
        year = ERAS[g["era"]] + (1 if g["ey"] == "元" else int(g["ey"]))
        return Fact(text, "date", year, _int(g["em"]), _int(g["ed"]))
    for y, m, d in (("y", "m", "d"), ("sy", "sm", "sd"), ("ay", "am", "ad"), ("by", "bm", "bd"), ("cy", "cm", None)):
        if g[y]:
            return Fact(text, "date", int(g[y]), _month(g[m]), _int(g[d]) if d else None)
    if g["jm"]:
        return Fact(text, "date", None, int(g["jm"]), _int(g["jd"]))
    if g["dm"]:
        return Fact(text, "date", None, MONTHS[g["dm"].lower()], int(g["dd"]))
    return None


def facts_in(text: str) -> list[Fact]:
    """Dates, percentages and numbers (with their magnitude words) in order, each value once."""
    found: list[Fact] = []
    for match in FACT.finditer(normalise(text)):
        fact = _date(match)
        if fact is None:
            value = kanji_value(match["num"]) * ENGLISH_UNITS.get((match["eng"] or "").lower(), 1)
            fact = Fact(match.group(0).strip(), "percent" if match["pct"] else "number", value=value)
        if not any(fact.within(f) and f.within(fact) for f in found):
            found.append(fact)
    return found


def unsupported(facts: list[Fact], source: list[Fact]) -> list[Fact]:
    """The facts that no fact of ``source`` states."""
    return [fact for fact in facts if not any(fact.within(other) for other in source)]


def unsupported_facts(summary: str, source: str) -> list[str]:
    """Numbers and dates of ``summary`` that do not stand in ``source``, as the summary wrote them."""
    return [fact.text for fact in unsupported(facts_in(summary), facts_in(source))]


def dropped_facts(translation: str, source: str) -> list[str]:
    """Numbers and dates of ``source`` that the translation does not carry, as the source wrote them."""
    return [fact.text for fact in unsupported(facts_in(source), facts_in(translation))]
