"""Where the retrieval benchmarks keep what they measured: ``bench/retrieval/results/<name>``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def save_json(name: str, report: Any) -> Path:
    """Write ``report`` as indented UTF-8 JSON to ``results/<name>`` and return the path."""
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / name
    target.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return target
