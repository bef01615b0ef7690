"""Turn bench/scale_out.sh's raw.jsonl (targets direct, w1, w2) into the scale-out figures, and prove
from the database that every served call left its usage and audit record and that the chain holds.

    python bench/scale_out_report.py OUT/raw.jsonl DATABASE_URL

Per round, mode and concurrency: w2 RPS ÷ w1 RPS of runs made seconds apart, then the median over
rounds (min–max beside it); the added p50 latency of each against the stub called directly.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

Key = tuple[str, int, int]  # mode, concurrency, round


def load(path: Path) -> dict[str, dict[Key, dict[str, Any]]]:
    runs: dict[str, dict[Key, dict[str, Any]]] = defaultdict(dict)
    for line in path.read_text().splitlines():
        run = json.loads(line)
        if not run.get("failed"):
            runs[run["target"]][(run["mode"], run["concurrency"], run["round"])] = run
    return runs


def p50(run: dict[str, Any]) -> float:
    return float(run["latency_ms"]["p50"])


def cpu_ms(run: dict[str, Any]) -> float | None:
    """The target's process tree: the first metered pid (compare.py passes the target's before the stub's)."""
    values = [v for k, v in (run.get("cpu") or {}).items() if k.startswith("pid") and k.endswith("_ms_per_req")]
    return values[0] if values else None


def table(runs: dict[str, dict[Key, dict[str, Any]]]) -> list[str]:
    lines = [
        "| mode | conc | w1 RPS | w2 RPS | **w2 ÷ w1** (min–max) | added p50 ms w1 / w2 "
        "| CPU ms/req w1 / w2 | errors |",
        "|---|---:|---:|---:|---:|---|---|---:|",
    ]
    cells = sorted({(m, c) for (m, c, _r) in runs["w1"]})
    for mode, conc in cells:
        rounds = sorted(r for (m, c, r) in runs["w1"] if (m, c) == (mode, conc) and (m, c, r) in runs["w2"])
        if not rounds:
            continue
        w1 = [runs["w1"][(mode, conc, r)] for r in rounds]
        w2 = [runs["w2"][(mode, conc, r)] for r in rounds]
        ratios = [b["rps"] / a["rps"] for a, b in zip(w1, w2, strict=True)]
        added = {}
        for name, series in (("w1", w1), ("w2", w2)):
            base = [runs["direct"].get((mode, conc, r)) for r in rounds]
            added[name] = statistics.median(p50(x) - p50(d) for x, d in zip(series, base, strict=True) if d)
        cpu = [statistics.median(c for x in s if (c := cpu_ms(x)) is not None) for s in (w1, w2)]
        errors = sum(x.get("errors", 0) for x in w1 + w2)
        lines.append(
            f"| {mode} | {conc} | {statistics.median(x['rps'] for x in w1):.0f} "
            f"| {statistics.median(x['rps'] for x in w2):.0f} "
            f"| **{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f}) "
            f"| {added['w1']:.2f} / {added['w2']:.2f} | {cpu[0]:.2f} / {cpu[1]:.2f} | {errors} |"
        )
    return lines


def served(runs: dict[str, dict[Key, dict[str, Any]]]) -> tuple[int, int]:
    """Measured calls answered correctly by w1 and w2, and the warm-up calls before each run
    (load.py sends max(20, c) of them and does not count their outcome)."""
    ok = warm = 0
    for name in ("w1", "w2"):
        for (_mode, conc, _r), run in runs[name].items():
            ok += run["ok"]
            warm += max(20, conc)
    return ok, warm


def records(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        usage = connection.execute(text("SELECT count(*) FROM usage_records")).scalar_one()
        audit = connection.execute(text("SELECT count(*) FROM audit_records WHERE action = 'model_call'")).scalar_one()
    engine.dispose()
    return [f"usage records: {usage}", f"model_call audit records: {audit}"]


def main(raw: str, database_url: str) -> None:
    runs = load(Path(raw))
    print("\n".join(table(runs)))
    print()
    ok, warm = served(runs)
    print(f"measured calls answered correctly: {ok}; warm-up calls: {warm}; together: {ok + warm}")
    print("\n".join(records(database_url)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
