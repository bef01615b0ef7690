"""Japanese MT-Bench (first turns): 80 questions in 8 categories, graded 1-10 by the judge model
(``HIRAGA_EVAL_JUDGE_MODEL``, through the gateway, prompt ``judge.JUDGE_VERSION``); math, reasoning
and coding against the GPT-4 reference answer. Items carry ``scorer: judge`` and the runner asks the
judge; without a judge they are judge errors. ``score`` (no judge) is never the grade: it raises."""

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
    title = "Japanese MT-Bench（審査モデルによる採点）"
    task = "chat"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        references = {}
        for line in source.path("mt-bench-ja", "reference_answer_gpt-4-v1.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                answer = json.loads(line)
                references[answer["question_id"]] = answer["choices"][0]["turns"][0]
        for line in source.path("mt-bench-ja", "question_full-v4.jsonl").read_text("utf-8").splitlines():
            if not line.strip():
                continue
            question = json.loads(line)
            category = str(question["category"])
            guided = category in WITH_REFERENCE
            meta = {"scorer": "judge", "arg": RUBRICS["reference" if guided else "default"], "category": category}
            yield EvalItem(
                f"{question['question_id']}",
                [{"role": "user", "content": question["turns"][0]}],
                reference=references.get(question["question_id"]) if guided else None,
                meta=meta,
            )

    def score(self, item: EvalItem, output: str) -> Score:
        raise NotImplementedError("MT-Bench items are graded by the judge model (the runner asks it)")
