"""Japanese MT-Bench: 80 two-turn questions in 8 categories, graded 1-10 by the judge model
(``HIRAGA_EVAL_JUDGE_MODEL``, through the gateway). The model answers the first question, then sees
its own answer and the second question (``followups``); the judge grades the first answer alone
(prompt ``single-v1``) and the second in the context of the first exchange (``single-multi-v1``);
the item's score is the mean of the two. Math, reasoning and coding are graded against the GPT-4
reference answers of each turn. Items carry ``scorer: judge`` and the runner asks the judge; without
a judge they are judge errors. ``score`` (no judge) is never the grade: it raises."""

from __future__ import annotations

import json
from collections.abc import Iterator

from hiraga.evaluation.base import EvalItem, Score, SuiteSource

RUBRICS = {
    "default": "有用性・関連性・正確さ・深さ・創造性・詳しさを考慮し、日本語として自然かで採点する。",
    "reference": "参考解答と照らして正しさを最も重視し、誤りがあれば大きく減点する。",
}
WITH_REFERENCE = frozenset({"math", "reasoning", "coding"})


class MtBenchSuite:
    name = "mt-bench-ja"
    title = "Japanese MT-Bench（2 往復、審査モデルによる採点）"
    task = "chat"
    version = "2"  # 1: first turns only

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        references: dict[int, list[str]] = {}
        for line in source.path("mt-bench-ja", "reference_answer_gpt-4-v1.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                answer = json.loads(line)
                references[answer["question_id"]] = list(answer["choices"][0]["turns"])
        for line in source.path("mt-bench-ja", "question_full-v4.jsonl").read_text("utf-8").splitlines():
            if not line.strip():
                continue
            question = json.loads(line)
            category = str(question["category"])
            guided = references.get(question["question_id"], []) if category in WITH_REFERENCE else []
            turns = list(question["turns"])
            meta = {
                "scorer": "judge",
                "arg": RUBRICS["reference" if guided else "default"],
                "category": category,
                "followups": turns[1:2],
                "references": guided[:2],
            }
            yield EvalItem(
                f"{question['question_id']}",
                [{"role": "user", "content": turns[0]}],
                reference=guided[0] if guided else None,
                meta=meta,
            )

    def score(self, item: EvalItem, output: str) -> Score:
        raise NotImplementedError("MT-Bench items are graded by the judge model (the runner asks it)")
