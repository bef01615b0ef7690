"""A random sample of the questions whose own context is not in hiraga's top 5 (the shipped
ranking: convex fusion + sentence rerank), to read by hand:

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.misses jsquad 25   # → results/misses-jsquad.txt

Each entry: the question, the rank of its context (-1: not in the top 30), the context and the
top-ranked passage. The reading of the sample is in docs/benchmarks.md ("Retrieval").
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
from bench.retrieval import tune

SEED = 1


def shipped_weights() -> np.ndarray:
    """The product's ranking in the study's feature space: fused + 1.2 × (0.3 words + 0.7 bigrams)."""
    theta = np.zeros(len(tune.FEATURES))
    theta[0] = 1.0
    theta[tune.FEATURES.index("sent_w")], theta[tune.FEATURES.index("sent_g")] = 1.2 * 0.3, 1.2 * 0.7
    return theta


def misses_at_5(world: tune.World) -> list[tuple[int, int, int]]:
    """(question, rank of its context or -1, top-ranked context) for every miss at 5."""
    pools, feats = tune.collect(world, False)
    theta = shipped_weights()
    found = []
    for i, (pool, f) in enumerate(zip(pools, feats, strict=True)):
        documents: list[int] = []
        for chunk in pool[np.argsort(-(f @ theta), kind="stable")]:
            if int(world.documents[chunk]) not in documents:
                documents.append(int(world.documents[chunk]))
        gold = world.task.relevant[i]
        if gold not in documents[:5]:
            found.append((i, documents.index(gold) if gold in documents else -1, documents[0]))
    return found


def main(name: str, size: int) -> None:
    world = tune.load_world(name)
    misses = misses_at_5(world)
    lines = [f"{name}: {len(misses)} of {len(world.queries)} questions miss at 5; sample of {size} (seed {SEED})", ""]
    for i, rank, top in random.Random(SEED).sample(misses, min(size, len(misses))):
        lines += [
            f"Q: {world.task.questions[i]}  (rank of its context: {rank})",
            f"  context: {world.task.contexts[world.task.relevant[i]][:200]}",
            f"  top    : {world.task.contexts[top][:200]}",
            "",
        ]
    out = Path(__file__).parent / "results" / f"misses-{name}.txt"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "jsquad", int(sys.argv[2]) if len(sys.argv) > 2 else 25)
