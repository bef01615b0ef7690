"""Print the N slowest tests from pytest JUnit XML reports: ``slowest_tests.py N report.xml...``."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree


def main(count: int, reports: list[str]) -> None:
    timings: list[tuple[float, str]] = []
    for report in reports:
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            timings.append((float(case.get("time", 0)), f"{case.get('classname')}::{case.get('name')}"))
    timings.sort(reverse=True)
    total = sum(t for t, _ in timings)
    print(f"== the {count} slowest of {len(timings)} tests ({total:.0f} s of test time in all)")
    for seconds, name in timings[:count]:
        print(f"{seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
