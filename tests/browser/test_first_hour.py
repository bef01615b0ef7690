"""The first hour in a real browser (scripts/first_hour.py, what ./scripts/first-hour runs): setup
with the first team, connecting a model (a stub OpenAI-compatible server) with its Japanese check,
chat, each task app streamed beside its form (result in view, checks shown once, the stop button
keeping a stopped run in the history), and the header menu on one line at 1280 px. The knowledge
base step is left to the script (it loads the embedder); tests/web/pages cover its pages."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_first_run
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
browser = test_first_run.browser  # the shared fixture
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "first_hour.py"


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("first_hour", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["first_hour"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def first_hour():  # type: ignore[no-untyped-def]
    return load_script()


@pytest.fixture
def served(first_hour, tmp_path: Path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with first_hour.serving(tmp_path / "data") as urls:
        yield urls


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_first_hour(first_hour, served, browser: Browser, tmp_path: Path, database_url: str) -> None:
    base_url, setup_url = served
    assert setup_url.startswith(base_url + "/setup?token=")  # the real host and port, not 8000
    stub = first_hour.StubUpstream().start()
    walked = first_hour.walk(browser, base_url, setup_url, stub, tmp_path / "shots", kb=False)
    names = [p.stem.split("-", 1)[1] for p in walked.shots]
    assert {"setup", "welcome", "model-check", "chat", "task-summarise", "task-stopped", "home-1280"} <= set(names)
    assert all(p.stat().st_size > 0 for p in walked.shots)
