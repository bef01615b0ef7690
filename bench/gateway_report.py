"""Turn compare.py's summary.json (targets direct, floor, hiraga, litellm) into the figures the
gateway issue asks for, and prove from hiraga's database that quota, usage and audit really ran.

    python bench/gateway_report.py OUT/summary.json HIRAGA_DATA_DIR
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any


def rows_by(summary: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(r["target"], r["mode"], r["concurrency"]): r for r in summary["rows"]}


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.3f}" if a and b else "n/a"


def cpu_table(rows: dict[tuple[str, str, int], dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    lines = [
        "| mode | conc | hiraga CPU ms/req | LiteLLM CPU ms/req | floor CPU ms/req | hiraga ÷ LiteLLM | hiraga ÷ floor "
        "| hiraga RPS | LiteLLM RPS | floor RPS | hiraga RPS ÷ LiteLLM | added p50 ms hiraga / LiteLLM / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for mode in summary["modes"]:
        for conc in summary["concurrency"]:
            h, lt, fl = (rows.get((t, mode, conc)) for t in ("hiraga", "litellm", "floor"))
            if not (h and lt and fl):
                continue
            hc, lc, fc = (x["target_abs_median"]["gw_cpu"] for x in (h, lt, fl))
            hr, lr, fr = (x["target_abs_median"]["rps"] for x in (h, lt, fl))
            added = " / ".join(str(x["added_ms_median"]["p50"]) for x in (h, lt, fl))
            lines.append(
                f"| {mode} | {conc} | {hc} | {lc} | {fc} | {ratio(hc, lc)} | {ratio(hc, fc)} | {hr} | {lr} | {fr} "
                f"| {ratio(hr, lr)} | {added} |"
            )
    return lines


def headline(rows: dict[tuple[str, str, int], dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    out = []
    top = max(summary["concurrency"])
    for mode in summary["modes"]:
        h, lt = rows.get(("hiraga", mode, top)), rows.get(("litellm", mode, top))
        if h and lt:
            out.append(
                f"- {mode}, concurrency {top}: CPU ms/req hiraga ÷ LiteLLM = "
                f"{ratio(h['target_abs_median']['gw_cpu'], lt['target_abs_median']['gw_cpu'])} (target ≤ 0.25); "
                f"RPS hiraga ÷ LiteLLM = {ratio(h['target_abs_median']['rps'], lt['target_abs_median']['rps'])} "
                "(target ≥ 4)"
            )
    for name in ("hiraga", "litellm", "floor"):
        r = rows.get((name, "stream", 1))
        if r:
            out.append(f"- stream TTFB added at concurrency 1, p50 ({name}): {r['added_ms_median']['ttfb_p50']} ms")
    return out


def records(data_dir: Path) -> list[str]:
    db = data_dir / "hiraga.db"
    if not db.exists():
        return ["- (no SQLite database found: records not counted)"]
    with sqlite3.connect(db) as conn:
        audit = conn.execute("select count(*), sum(outcome = 'ok') from audit_records").fetchone()
        usage = conn.execute("select count(*) from usage_records").fetchone()[0]
        counters = conn.execute("select count(*) from limit_counters").fetchone()[0]
    return [
        f"- hiraga wrote {audit[0]} audit records ({audit[1]} ok) and {usage} usage records; "
        f"{counters} limit counters were live"
    ]


def machine_load(raw: Path) -> list[str]:
    """The 1-minute load average the harness saw at each load run: the noise indicator."""
    if not raw.exists():
        return []
    loads = [json.loads(line)["loadavg_1m"] for line in raw.read_text().splitlines() if line.strip()]
    if not loads:
        return []
    loads.sort()
    median = loads[len(loads) // 2]
    return [
        f"- machine load average (1 min) over the {len(loads)} load runs: "
        f"min {loads[0]}, median {median}, max {loads[-1]}"
    ]


def main() -> None:
    summary = json.loads(Path(sys.argv[1]).read_text())
    rows = rows_by(summary)
    lines = [
        "## Headline",
        "",
        *headline(rows, summary),
        *records(Path(sys.argv[2])),
        *machine_load(Path(sys.argv[1]).parent / "raw.jsonl"),
        "",
        "## Per mode and concurrency (medians over rounds)",
        "",
        *cpu_table(rows, summary),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
