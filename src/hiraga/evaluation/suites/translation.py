"""Translation ja↔en of administrative sentences (notices to residents, application procedures,
tax and welfare notices, disaster information), scored by sentence chrF (sacrebleu) against the
reference. The parallel set was written by the project (``data/translation_admin.jsonl``, see
``data/SOURCES.md``); each pair is asked in both directions, in turns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources

from hiraga.evaluation.base import EvalItem, Score, SuiteSource, in_turns
from hiraga.evaluation.metrics import chrf

DATA = "translation_admin.jsonl"
PROMPTS = {
    "ja-en": "次の日本語の文（自治体からのお知らせ）を英語に翻訳してください。訳文だけを出力してください。\n\n{text}",
    "en-ja": "次の英語の文（自治体からのお知らせ）を日本語に翻訳してください。訳文だけを出力してください。\n\n{text}",
}
_QUOTES = "\"'「」『』“”"


@cache
def parallel_pairs() -> tuple[dict[str, str], ...]:
    """The project's parallel set: ``id``, ``domain``, ``ja``, ``en``."""
    text = resources.files("hiraga.evaluation.suites").joinpath("data", DATA).read_text("utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def translation_items(direction: str) -> Iterator[EvalItem]:
    source_lang, target_lang = direction.split("-")
    for pair in parallel_pairs():
        yield EvalItem(
            f"{direction}:{pair['id']}",
            [{"role": "user", "content": PROMPTS[direction].format(text=pair[source_lang])}],
            reference=pair[target_lang],
            meta={"direction": direction, "domain": pair["domain"]},
        )


def cleaned(output: str) -> str:
    """The translation without the whitespace and quotes a model may wrap it in."""
    return output.strip().strip(_QUOTES).strip()


class TranslationSuite:
    name = "translation"
    title = "翻訳（日英・英日、行政のお知らせ）"
    task = "translate"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        return in_turns([translation_items("ja-en"), translation_items("en-ja")])

    def score(self, item: EvalItem, output: str) -> Score:
        value = chrf(cleaned(output), item.reference or "")
        return Score(value, {"chrf": round(value * 100, 1), "direction": item.meta.get("direction")})
