"""Person-name benchmark on held-out names: recall per written form and per context, honorifics kept
outside the placeholder, false findings in the generated documents and on the whole statute corpus.

.venv/bin/python bench/pii/names_run.py [--documents 3000] [--seed 2024] [--json out.json] [--misses 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from documents import load_statute_paragraphs
from names_corpus import FORMS, held_out_check
from names_documents import CONTEXTS, NamedDocument, PlantedName, generate
from run import COVERAGE, covered_share

from hiraga.pii import load_detectors, scan
from hiraga.pii.base import Finding

KIND = "person_name"


class Tally:
    def __init__(self) -> None:
        self.planted: Counter[str] = Counter()
        self.found: Counter[str] = Counter()
        self.honorifics = 0
        self.honorifics_swallowed = 0
        self.false_findings = 0
        self.misses: list[str] = []
        self.false_examples: list[str] = []

    def count(self, doc: NamedDocument, name: PlantedName, findings: list[Finding], keep: int) -> None:
        hit = covered_share(KIND, name.start, name.end, findings) >= COVERAGE
        for key in (f"form:{name.form}", f"context:{name.context}", "overall"):
            self.planted[key] += 1
            self.found[key] += hit
        if not hit and len(self.misses) < keep:
            self.misses.append(f"{name.form}/{name.context}: …{_around(doc.text, name.start, name.end)}…")
        if name.honorific_end is not None and hit:
            self.honorifics += 1
            self.honorifics_swallowed += any(f.end > name.end and f.start < name.honorific_end for f in findings)

    def recall(self) -> dict[str, float]:
        order = [f"form:{f}" for f in FORMS] + [f"context:{c}" for c in CONTEXTS] + ["overall"]
        return {key: round(self.found[key] / self.planted[key], 4) for key in order if self.planted[key]}


def _around(text: str, start: int, end: int) -> str:
    return f"{text[max(0, start - 10) : start]}[{text[start:end]}]{text[end : end + 6]}".replace("\n", "⏎")


def evaluate(documents: list[NamedDocument], keep: int) -> dict[str, object]:
    detectors = load_detectors()
    tally = Tally()
    for doc in documents:
        findings = [f for f in scan(doc.text, detectors) if f.kind == KIND]
        for name in doc.names:
            tally.count(doc, name, findings, keep)
        for finding in findings:
            if not any(n.start < finding.end and finding.start < n.end for n in doc.names):
                tally.false_findings += 1
                if len(tally.false_examples) < keep:
                    tally.false_examples.append(_around(doc.text, finding.start, finding.end))
    return {
        "documents": len(documents),
        "characters": sum(len(doc.text) for doc in documents),
        "planted": dict(tally.planted),
        "recall": tally.recall(),
        "honorifics_after_found_names": tally.honorifics,
        "honorifics_inside_placeholder": tally.honorifics_swallowed,
        "false_findings_in_documents": tally.false_findings,
        "false_examples": tally.false_examples,
        "missed_examples": tally.misses,
    }


def statute_name_findings(paragraphs: list[str]) -> dict[str, object]:
    """Statutes name no private person: every person-name finding there is false."""
    text = "\n".join(paragraphs)
    began = time.perf_counter()
    findings = [f for f in scan(text, load_detectors()) if f.kind == KIND]
    return {
        "characters": len(text),
        "false_findings": len(findings),
        "examples": [_around(text, f.start, f.end) for f in findings[:10]],
        "seconds": round(time.perf_counter() - began, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--misses", type=int, default=20, help="how many missed / false examples to show")
    parser.add_argument("--skip-statutes", action="store_true", help="skip the 920 k-character statute pass")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    held_out_check()
    statutes = load_statute_paragraphs()
    result = evaluate(generate(args.documents, args.seed, statutes), args.misses)
    if not args.skip_statutes:
        result["statute_corpus"] = statute_name_findings(statutes)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
