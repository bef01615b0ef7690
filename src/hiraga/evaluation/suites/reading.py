"""Grounded reading comprehension: JSQuAD (JGLUE) and JaQuAD questions from the shared data,
answered from the paragraph given. Score = character F1 (exact match reported beside it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hiraga.evaluation.base import EvalItem, Score, SuiteSource, in_turns
from hiraga.evaluation.metrics import char_f1, exact_match

PROMPT = (
    "次の文章を読んで、質問に答えてください。答えは文章中の語句をそのまま抜き出し、答えだけを書いてください。\n\n"
    "文章:\n{context}\n\n質問: {question}"
)


class ReadingSuite:
    name = "reading"
    title = "根拠に基づく読解（JSQuAD・JaQuAD）"
    task = "reading"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        """JSQuAD and JaQuAD questions in turns, one question per paragraph first."""
        jsquad = _questions("jsquad", [source.path("jsquad", "valid-v1.3.json")])
        jaquad = _questions("jaquad", sorted(source.path("jaquad").glob("jaquad_dev_*.json")))
        return in_turns([jsquad, jaquad])

    def score(self, item: EvalItem, output: str) -> Score:
        answers = list(item.meta["answers"])
        answer = output.strip().splitlines()[0] if output.strip() else ""
        f1, em = char_f1(answer, answers), exact_match(answer, answers)
        return Score(f1, {"f1": round(f1, 4), "em": em})


def _questions(corpus: str, files: list[Path]) -> Iterator[EvalItem]:
    for path in files:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                context = str(paragraph["context"]).split("[SEP]", 1)[-1].strip()
                for qa in paragraph["qas"][:1]:
                    answers = [str(a["text"]) for a in qa.get("answers") or []]
                    if qa.get("is_impossible") or not answers:
                        continue
                    prompt = PROMPT.format(context=context, question=qa["question"])
                    yield EvalItem(
                        f"{corpus}:{qa['id']}",
                        [{"role": "user", "content": prompt}],
                        reference=answers[0],
                        meta={"answers": answers},
                    )
