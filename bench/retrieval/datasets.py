"""JSQuAD / JaQuAD as retrieval tasks: corpus = distinct contexts, query = question,
relevant = the context the question was written for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path("/work/shared/data")


@dataclass(frozen=True)
class RetrievalTask:
    name: str
    contexts: list[str]  # document i is contexts[i]
    questions: list[str]
    relevant: list[int]  # index into contexts for each question


def _squad_task(name: str, files: list[Path]) -> RetrievalTask:
    contexts: list[str] = []
    index: dict[str, int] = {}
    questions: list[str] = []
    relevant: list[int] = []
    for file in files:
        for article in json.loads(file.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                if context not in index:
                    index[context] = len(contexts)
                    contexts.append(context)
                for qa in paragraph["qas"]:
                    questions.append(qa["question"])
                    relevant.append(index[context])
    return RetrievalTask(name, contexts, questions, relevant)


def load(name: str, data: Path = DATA) -> RetrievalTask:
    if name == "jsquad":
        return _squad_task(name, [data / "jsquad" / "valid-v1.3.json"])
    if name == "jaquad":
        return _squad_task(name, sorted((data / "jaquad").glob("jaquad_dev_*.json")))
    raise ValueError(f"unknown dataset {name}")
