"""Turn a retrieval task into hiraga chunks exactly as ingestion would (text parser + chunker)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.retrieval.datasets import RetrievalTask

from hiraga.knowledge.chunking import chunk_document
from hiraga.knowledge.index.base import passage_text
from hiraga.knowledge.parsers.text import TextParser


@dataclass(frozen=True)
class Passage:
    document: int  # index of the context
    text: str
    embedded_text: str


def passages_of_task(task: RetrievalTask) -> list[Passage]:
    parser = TextParser()
    passages: list[Passage] = []
    for number, context in enumerate(task.contexts):
        parsed = parser.parse(context.encode("utf-8"), f"{task.name}-{number}.txt")
        for chunk in chunk_document(parsed):
            passages.append(Passage(number, chunk.text, passage_text(chunk.heading_path, chunk.text)))
    return passages
