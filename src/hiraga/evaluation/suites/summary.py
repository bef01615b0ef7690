"""Summary fidelity over statute articles: every number, date, amount, article reference and name
in the summary must occur in the source (widths, kanji numerals and 和暦 normalised); the source's
key facts should be kept; the length instruction must be followed.

Score = fidelity × (½ + ½ coverage) × length (1 within the limit, else limit / length).
"""

from __future__ import annotations

from collections.abc import Iterator

from hiraga.evaluation.base import EvalItem, Score, SuiteSource
from hiraga.evaluation.metrics import name_facts, numeric_facts
from hiraga.evaluation.suites.laws import interleaved

MIN_FACTS, MIN_CHARS, MAX_CHARS = 3, 150, 900
KEY_FACTS = 5
PROMPT = (
    "次の条文を{limit}字以内で要約してください。数字・日付・金額・条番号は原文のとおりに書き、"
    "原文にないことは書かないでください。\n\n{law} {article}\n{text}"
)


class SummaryFidelitySuite:
    name = "summary-fidelity"
    title = "要約の忠実性"
    task = "summarise"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        for article in interleaved(source):
            text = article.text
            facts = list(dict.fromkeys(numeric_facts(text)))
            if len(facts) < MIN_FACTS or not MIN_CHARS <= len(text) <= MAX_CHARS:
                continue
            limit = max(60, len(text) // 3 // 10 * 10)
            prompt = PROMPT.format(limit=limit, law=article.law_title, article=article.number, text=text)
            meta = {"source": text, "limit": limit, "key_facts": facts[:KEY_FACTS]}
            yield EvalItem(f"{article.law_id}:{article.number}", [{"role": "user", "content": prompt}], meta=meta)

    def score(self, item: EvalItem, output: str) -> Score:
        return fidelity_score(output, str(item.meta["source"]), list(item.meta["key_facts"]), int(item.meta["limit"]))


def fidelity_score(summary: str, source: str, key_facts: list[str], limit: int) -> Score:
    summary = summary.strip()
    if not summary:
        return Score(0.0, {"fidelity": 0.0, "coverage": 0.0, "length": 0.0, "unsupported": []})
    source_numbers, source_names = set(numeric_facts(source)), "".join(name_facts(source))
    claimed = numeric_facts(summary)
    unsupported = [f for f in claimed if f not in source_numbers]
    unsupported += [n for n in name_facts(summary) if n not in source_names and n not in source]
    checked = len(claimed) + len(name_facts(summary))
    fidelity = 1.0 - len(unsupported) / checked if checked else 1.0
    kept = set(claimed)
    coverage = sum(fact in kept for fact in key_facts) / len(key_facts) if key_facts else 1.0
    length = 1.0 if len(summary) <= limit else limit / len(summary)
    detail = {
        "fidelity": round(fidelity, 4),
        "coverage": round(coverage, 4),
        "length": round(length, 4),
        "characters": len(summary),
        "unsupported": unsupported,
    }
    return Score(fidelity * (0.5 + 0.5 * coverage) * length, detail)
