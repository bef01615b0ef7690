"""Real statute sentences from ../shared/data/egov-law-xml (<Sentence> elements) and
../shared/data/egov-law-text (article lines), deduplicated and in a fixed order."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # local, trusted e-Gov files
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
XML_DIR = DATA / "egov-law-xml"
TEXT_DIR = DATA / "egov-law-text"
# a line of article text: 「第一条　…」「２　…」「一　…」「イ　…」 (the label is dropped)
LABEL = re.compile(
    r"^(?:第[一二三四五六七八九十百千]+条(?:の[一二三四五六七八九十]+)*"
    r"|[０-９0-9]+|[一二三四五六七八九十]+|[イロハニホヘトチリヌルヲ])[\s　]+"
)


def xml_sentences() -> list[tuple[str, str]]:
    found = []
    for path in sorted(XML_DIR.glob("*.xml")):
        for element in ET.parse(path).iter("Sentence"):
            text = "".join(element.itertext()).strip()
            if text.endswith("。"):
                found.append((path.stem[:15], text))
    return found


def text_sentences() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEXT_DIR.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            body = LABEL.sub("", line.strip(), count=1)
            if body != line.strip() and body.endswith("。"):
                found.extend((path.stem[:15], s) for s in _cut(body))
    return found


def _cut(paragraph: str) -> list[str]:
    """Cut at 。 outside parentheses and quotes (「…をいう。」 stays inside its sentence)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(paragraph):
        depth += char in "（「『"
        depth -= char in "）」』"
        if char == "。" and depth <= 0:
            parts.append(paragraph[start : i + 1].strip())
            start, depth = i + 1, 0
    return [p for p in parts if len(p) > 5]


def is_modern(law_id: str) -> bool:
    """Enacted in 平成 or 令和 (law ids 4xx/5xx): written to today's notation rules (small っ since
    1988, the 2010 常用漢字表). 昭和 statutes keep 但し, 且つ, 当つて … until amended."""
    return law_id[:1] in ("4", "5")


def statute_sentences(modern_only: bool = False) -> list[str]:
    """Unique sentences, in file order."""
    seen: dict[str, None] = {}
    for law_id, sentence in xml_sentences() + text_sentences():
        if not modern_only or is_modern(law_id):
            seen.setdefault(sentence, None)
    return list(seen)
