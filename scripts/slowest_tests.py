"""Summarise pytest JUnit XML reports: the test time of each tier (the ``tier`` property that
tests/conftest.py records) and the N slowest tests. ``slowest_tests.py N report.xml...``."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict


def main(count: int, reports: list[str]) -> None:
    timings: list[tuple[float, str]] = []
    tiers: dict[str, list[float]] = defaultdict(list)
    for report in reports:
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            seconds = float(case.get("time", 0))
            timings.append((seconds, f"{case.get('classname')}::{case.get('name')}"))
            tier = next((p.get("value") for p in case.iter("property") if p.get("name") == "tier"), "(none)")
            tiers[tier or "(none)"].append(seconds)
    print("== test time per tier (summed over the workers)")
    for tier, times in sorted(tiers.items(), key=lambda kv: -sum(kv[1])):
        print(f"{tier:34s} {sum(times):6.0f} s  ({len(times)} tests)")
    timings.sort(reverse=True)
    total = sum(t for t, _ in timings)
    print(f"== the {count} slowest of {len(timings)} tests ({total:.0f} s of test time in all)")
    for seconds, name in timings[:count]:
        print(f"{seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
