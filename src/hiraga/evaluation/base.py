"""The evaluation-suite extension point (entry-point group ``hiraga.eval_suites``).

A suite is a small object: ``items(source)`` yields the prompts (deterministically for a given
seed), ``score(item, output)`` scores one answer in code. Built-ins are registered in hiraga's
pyproject exactly like third-party suites.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from hiraga import plugins
from hiraga.errors import ConfigurationError, NotFound


@dataclass(frozen=True, slots=True)
class SuiteSource:
    """Where a suite reads its data: the shared data folder (``HIRAGA_EVAL_DATA_DIR``) and the seed
    of any sampling or seeded deviation."""

    data_dir: Path | None = None
    seed: int = 0

    def path(self, *parts: str) -> Path:
        if self.data_dir is None:
            raise ConfigurationError(
                "評価データのフォルダが設定されていません（HIRAGA_EVAL_DATA_DIR）。", code="eval_data_missing"
            )
        found = self.data_dir.joinpath(*parts)
        if not found.exists():
            raise ConfigurationError(f"評価データ {found} が見つかりません。", code="eval_data_missing")
        return found


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One prompt of a suite: a stable id, the chat messages, the reference (if any) and whatever
    the scorer needs (JSON-able)."""

    id: str
    messages: list[dict[str, str]]
    reference: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        return self.messages[-1]["content"] if self.messages else ""


@dataclass(frozen=True, slots=True)
class Score:
    """A score in [0, 1] and its parts (shown next to the item)."""

    value: float
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class EvalSuite(Protocol):
    name: str  # stable id, e.g. "kouyoubun-rewrite"
    title: str  # Japanese, shown in pages and reports
    task: str  # the task type routing uses: "kouyoubun", "summarise", "reading", "law", ...
    version: str  # bump when items or scoring change: runs of other versions are not compared

    def items(self, source: SuiteSource) -> Iterator[EvalItem]: ...

    def score(self, item: EvalItem, output: str) -> Score: ...


T = TypeVar("T")


def in_turns(walks: Iterable[Iterator[T]]) -> Iterator[T]:
    """One item of each walk in turn until all are done (a small limit spans every source)."""
    active = list(walks)
    while active:
        for walk in list(active):
            found = next(walk, None)
            if found is None:
                active.remove(walk)
            else:
                yield found


def installed_suites() -> dict[str, EvalSuite]:
    """name → suite for every installed plugin (built-ins included)."""
    found: dict[str, EvalSuite] = {}
    for name, factory in plugins.discover("eval_suites").items():
        suite = factory() if isinstance(factory, type) else factory
        found[name] = suite
    return found


def suite_named(name: str) -> EvalSuite:
    suites = installed_suites()
    if name not in suites:
        known = "、".join(sorted(suites))
        raise NotFound(f"評価スイート「{name}」はありません。使えるもの: {known}", code="eval_suite_not_found")
    return suites[name]
