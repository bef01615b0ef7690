"""公用文チェック benchmark: seeded deviations in real statute sentences (recall and precision per
rule class), false alarms on untouched statute sentences, and throughput.

    .venv/bin/python bench/kouyoubun/run.py [--per-kind 150] [--seed 20240611]

Writes bench/kouyoubun/results.json and prints the tables for docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import statute_sentences
from documents import politeness_mixed, run_on
from inject import INJECTORS, PRH_PAIRS, Seeded

from hiraga.kouyoubun.checker import check

CLASS_OF_FAMILY = {
    "kana": "表記（漢字・仮名・用字用語）",
    "prh": "表記（漢字・仮名・用字用語）",
    "morpheme": "表記（漢字・仮名・用字用語）",
    "conjunction": "接続詞の段階",
    "digits": "算用数字の全角・半角",
    "width": "英字・片仮名の全角・半角",
    "bracket": "括弧",
    "style": "文体の統一",
    "length": "一文の長さ",
}
HOST_MAX_CHARS = 70  # hosts (plus what a seed adds) stay under the soft length note of 80


def seed_corpus(sentences: list[str], per_kind: int, rng: random.Random) -> list[Seeded]:
    hosts = [s for s in sentences if len(s) <= HOST_MAX_CHARS]
    seeded: list[Seeded] = []
    for name, inject in INJECTORS.items():
        order = hosts[:]
        rng.shuffle(order)
        made = [item for item in (inject(s, rng) for s in order) if item is not None][:per_kind]
        seeded.extend(made)
        print(f"  {name}: {len(made)}", file=sys.stderr)
    for make, size in ((politeness_mixed, 5), (run_on, 4)):
        starts = list(range(0, len(hosts) - size, size))
        rng.shuffle(starts)
        made = [item for item in (make(hosts[i : i + size], rng) for i in starts) if item is not None][:per_kind]
        seeded.extend(made)
        print(f"  {make.__name__}: {len(made)}", file=sys.stderr)
    return seeded


def score(seeded: list[Seeded]) -> dict[str, dict[str, float]]:
    tp, fp, found, total = Counter(), Counter(), Counter(), Counter()
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in seeded:
        findings = check(item.text).findings
        for cls, start, end in item.places:
            hit = any(CLASS_OF_FAMILY[f.family] == cls and f.start < end and start < f.end for f in findings)
            total[cls] += 1
            found[cls] += hit
            by_kind[item.kind][0] += hit
            by_kind[item.kind][1] += 1
        for f in findings:
            cls = CLASS_OF_FAMILY[f.family]
            ok = any(c == cls and f.start < end and start < f.end for c, start, end in item.places)
            (tp if ok else fp)[cls] += 1
    table = {}
    for cls in sorted(set(total) | set(fp)):
        table[cls] = {
            "seeded": total[cls],
            "recall": found[cls] / total[cls] if total[cls] else 0.0,
            "precision": tp[cls] / (tp[cls] + fp[cls]) if tp[cls] + fp[cls] else 1.0,
            "false_positives": fp[cls],
        }
    all_tp, all_fp, all_found, all_total = sum(tp.values()), sum(fp.values()), sum(found.values()), sum(total.values())
    table["全体"] = {
        "seeded": all_total,
        "recall": all_found / all_total,
        "precision": all_tp / (all_tp + all_fp),
        "false_positives": all_fp,
    }
    table |= {f"  内訳: {k}": {"seeded": v[1], "recall": v[0] / v[1]} for k, v in sorted(by_kind.items())}
    return table


def false_alarms(sentences: list[str], n: int, rng: random.Random) -> dict[str, object]:
    sample = rng.sample(sentences, min(n, len(sentences)))
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for sentence in sample:
        for f in check(sentence).findings:
            counts[f.rule_id] += 1
            examples.setdefault(f.rule_id, f"{sentence[f.start : f.end]} ← {sentence[:60]}")
    other = sum(v for k, v in counts.items() if not k.startswith("length."))
    return {
        "sentences": len(sample),
        "findings_per_1000_excluding_length": other * 1000 / len(sample),
        "length_long_per_1000": counts["length.long"] * 1000 / len(sample),
        "length_soft_per_1000": counts["length.soft"] * 1000 / len(sample),
        "by_rule": dict(counts.most_common()),
        "examples": examples,
    }


def throughput(sentences: list[str]) -> dict[str, float]:
    text = "\n".join(sentences)
    check(text[:2000])  # warm up (dictionaries, tokenizer)
    started = time.perf_counter()
    result = check(text)
    seconds = time.perf_counter() - started
    return {
        "characters": len(text),
        "seconds": seconds,
        "characters_per_second": len(text) / seconds,
        "findings": len(result.findings),
    }


def prh_gold_coverage() -> dict[str, float]:
    """SOURCES.md use (1): each prh pattern in a sentence, flagged with the expected form?"""
    hit = sum(
        any(f.suggestion == right for f in check(f"これは{wrong}の例である。").findings) for right, wrong in PRH_PAIRS
    )
    return {"patterns": len(PRH_PAIRS), "flagged_with_expected_form": hit / len(PRH_PAIRS)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-kind", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    modern, every = statute_sentences(modern_only=True), statute_sentences()
    results = {
        "seed": args.seed,
        "corpus": {"modern_sentences": len(modern), "all_sentences": len(every)},
        "seeded": score(seed_corpus(modern, args.per_kind, rng)),
        "false_alarms_modern": false_alarms(modern, 1000, rng),
        "false_alarms_all": false_alarms(every, 1000, rng),
        "throughput": throughput(rng.sample(modern, 1000)),
        "prh_gold_list": prh_gold_coverage(),
    }
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
