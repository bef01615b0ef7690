"""Articles of the e-Gov law texts in the shared data (``egov-law-text/*.md``): the material of the
公用文, summary and law-question suites."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hiraga.evaluation.base import SuiteSource, in_turns

_ARTICLE_HEAD = re.compile(r"^(第[一二三四五六七八九十百千]+条(?:の[一二三四五六七八九十]+)*)[\s\u3000]+(.+)$")
_CAPTION = re.compile(r"^（([^）]{1,30})）$")
_PARAGRAPH = re.compile(r"^[０-９0-9]+[\s\u3000]+(.+)$")


@dataclass(frozen=True, slots=True)
class Article:
    law_id: str
    law_title: str
    number: str  # 第五条
    caption: str  # 定義 (without brackets), "" when the article has none
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def law_files(source: SuiteSource) -> list[Path]:
    return sorted(p for p in source.path("egov-law-text").glob("*.md") if "_" in p.stem)  # not SOURCES.md


def articles(path: Path) -> Iterator[Article]:
    """The articles of one law file in order (the main provisions; 附則 ends the walk)."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    title = lines[0].lstrip("# ").strip() if lines else path.stem
    law_id = path.stem.split("_", 1)[0]
    caption, current, paragraphs = "", None, []
    for line in lines[1:]:
        if current is not None and (line.startswith("附則") or line.startswith("附　則")):
            break  # (附則 in the table of contents, before the first article, is not the end)
        head, cap, para = _ARTICLE_HEAD.match(line), _CAPTION.match(line), _PARAGRAPH.match(line)
        if head:
            if current is not None:
                yield Article(law_id, title, current[0], current[1], tuple(paragraphs))
            current, paragraphs = (head.group(1), caption), [head.group(2)]
            caption = ""
        elif cap:
            caption = cap.group(1)
        elif para and current is not None:
            paragraphs.append(para.group(1))
    if current is not None:
        yield Article(law_id, title, current[0], current[1], tuple(paragraphs))


def interleaved(source: SuiteSource) -> Iterator[Article]:
    """Articles of every law, one law after another in turns (a small limit spans several laws)."""
    return in_turns(articles(path) for path in law_files(source))
