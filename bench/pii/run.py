"""PII benchmark: recall per kind, overall precision and throughput on a generated corpus.

.venv/bin/python bench/pii/run.py [--documents 2000] [--seed 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import KINDS, Document
from documents import generate, load_statute_paragraphs

from hiraga.pii import load_detectors, scan
from hiraga.pii.base import Finding

RECALL_TARGETS = {"my_number": 0.99, "corporate_number": 0.99, "phone_number": 0.99, "email": 0.99,
                  "card_number": 0.99, "person_name": 0.90, "address": 0.90}  # fmt: skip
PRECISION_TARGET = 0.98
COVERAGE = 0.9  # a planted value counts as found when same-kind findings cover ≥ 90 % of its characters


def covered_share(kind: str, start: int, end: int, findings: list[Finding]) -> float:
    covered = sum(max(0, min(end, f.end) - max(start, f.start)) for f in findings if f.kind == kind)
    return covered / (end - start)


def evaluate(documents: list[Document]) -> dict[str, object]:
    detectors = load_detectors()
    planted, found, exact = Counter[str](), Counter[str](), Counter[str]()
    true_positive, false_positive = Counter[str](), Counter[str]()
    false_examples: list[str] = []
    missed_examples: list[str] = []
    elapsed = 0.0
    for doc in documents:
        began = time.perf_counter()
        findings = scan(doc.text, detectors)
        elapsed += time.perf_counter() - began
        spans = {(f.kind, f.start, f.end) for f in findings}
        for kind, start, end in doc.truth:
            planted[kind] += 1
            hit = covered_share(kind, start, end, findings) >= COVERAGE
            found[kind] += hit
            if not hit and len(missed_examples) < 15:
                missed_examples.append(
                    f"{kind}: …{doc.text[max(0, start - 8) : start]}[{doc.text[start:end]}]{doc.text[end : end + 6]}…"
                )
            exact[kind] += (kind, start, end) in spans
        for finding in findings:
            if any(k == finding.kind and s < finding.end and finding.start < e for k, s, e in doc.truth):
                true_positive[finding.kind] += 1
            else:
                false_positive[finding.kind] += 1
                if len(false_examples) < 15:
                    false_examples.append(f"{finding.kind}: …{doc.text[max(0, finding.start - 12) : finding.end + 6]}…")
    characters = sum(len(doc.text) for doc in documents)
    all_positive = sum(true_positive.values()) + sum(false_positive.values())
    return {
        "documents": len(documents),
        "characters": characters,
        "recall": {k: round(found[k] / planted[k], 4) for k in KINDS if planted[k]},
        "exact_span_rate": {k: round(exact[k] / planted[k], 4) for k in KINDS if planted[k]},
        "planted": dict(planted),
        "precision": round(sum(true_positive.values()) / all_positive, 4) if all_positive else 1.0,
        "findings": all_positive,
        "false_positives": dict(false_positive),
        "false_positive_examples": false_examples,
        "missed_examples": missed_examples,
        "chars_per_second": round(characters / elapsed),
    }


def statute_findings(paragraphs: list[str]) -> dict[str, object]:
    """Every finding in the whole statute corpus is a false positive (statutes name no private persons)."""
    detectors = load_detectors()
    text = "\n".join(paragraphs)
    began = time.perf_counter()
    findings = scan(text, detectors)
    elapsed = time.perf_counter() - began
    examples = [f"{f.kind}: …{text[max(0, f.start - 10) : f.end + 6]}…" for f in findings[:10]]
    return {
        "characters": len(text),
        "findings": dict(Counter(f.kind for f in findings)),
        "examples": examples,
        "chars_per_second": round(len(text) / elapsed),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    statutes = load_statute_paragraphs()
    documents = generate(args.documents, args.seed, statutes)
    result = evaluate(documents)
    result["statute_corpus"] = statute_findings(statutes)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    recall = result["recall"]
    assert isinstance(recall, dict)
    misses = [k for k, target in RECALL_TARGETS.items() if recall.get(k, 0.0) < target]
    precision_ok = float(result["precision"]) >= PRECISION_TARGET  # type: ignore[arg-type]
    print("targets met" if not misses and precision_ok else f"targets missed: {misses} precision_ok={precision_ok}")
    return 0 if not misses and precision_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
