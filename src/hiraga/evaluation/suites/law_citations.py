"""Law questions with citations over e-Gov law articles: four numbered articles of one law are shown
(the one that answers and three others, seeded), the model names the article that governs a topic
(its caption), explains it and cites the passage as [n].

Score = ½ correct article + ¼ citation valid (the answering passage cited, no number that names no
passage: ``knowledge.citations.check_citations``) + ¼ supported (share of claims the cited passages
contain: ``knowledge.attribution.attribute``, the answer pipeline's own check).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from hiraga.evaluation.base import EvalItem, Score, SuiteSource
from hiraga.evaluation.metrics import numeric_facts
from hiraga.evaluation.suites.laws import Article, articles, law_files
from hiraga.knowledge.attribution import attribute, is_claim, pieces
from hiraga.knowledge.citations import Passage, check_citations

SHOWN = 4
PROMPT = (
    "次の資料は{law}の条文です。{law}で「{topic}」について定めているのは第何条ですか。"
    "条番号を答え、その定めの内容を一文で説明し、根拠とした資料の番号を [番号] の形で文末に付けてください。"
    "\n\n{passages}"
)


class LawCitationSuite:
    name = "law-citations"
    title = "法令の質問と根拠条文"
    task = "law"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        laws = [list(articles(path)) for path in law_files(source)]
        for turn in range(max((len(law) for law in laws), default=0)):
            for law in laws:
                if turn < len(law) and law[turn].caption and len(law) > SHOWN:
                    yield _item(law[turn], law, random.Random(f"{source.seed}:{law[turn].law_id}:{turn}"))

    def score(self, item: EvalItem, output: str) -> Score:
        passages = [Passage(**p) for p in item.meta["passages"]]
        target = int(item.meta["target"])
        answer_facts = numeric_facts(output)
        correct = 1.0 if numeric_facts(str(item.meta["article"]))[0] in answer_facts else 0.0
        checked = check_citations(output, passages)
        cited = {p.number for p in checked.cited}
        valid = 1.0 if target in cited and not checked.invalid else 0.0
        claims = [p for p in pieces(checked.text) if is_claim(p)]
        unsupported = attribute(checked.text, str(item.meta["question"]), passages).unsupported if cited else claims
        supported = 1.0 - len(unsupported) / len(claims) if claims else 0.0
        detail = {
            "correct": correct,
            "citation_valid": valid,
            "supported": round(supported, 4),
            "cited": sorted(cited),
            "invalid": checked.invalid,
        }
        return Score(0.5 * correct + 0.25 * valid + 0.25 * supported, detail)


def _item(target: Article, law: list[Article], rng: random.Random) -> EvalItem:
    others = rng.sample([a for a in law if a.number != target.number], SHOWN - 1)
    shown = [target, *others]
    rng.shuffle(shown)
    passages = [
        {
            "number": n,
            "chunk_id": 0,
            "document_id": 0,
            "document_name": f"{a.law_id}.md",
            "document_title": a.law_title,
            "text": a.text,
            "score": 0.0,
            "article": a.number,
        }
        for n, a in enumerate(shown, start=1)
    ]
    listing = "\n\n".join(f"[{p['number']}] {target.law_title}{p['article']}\n{p['text']}" for p in passages)
    question = f"{target.law_title}で「{target.caption}」について定めているのは第何条ですか。"
    prompt = PROMPT.format(law=target.law_title, topic=target.caption, passages=listing)
    meta = {
        "passages": passages,
        "target": shown.index(target) + 1,
        "article": target.number,
        "question": question,
    }
    return EvalItem(
        f"{target.law_id}:{target.number}", [{"role": "user", "content": prompt}], reference=target.number, meta=meta
    )
