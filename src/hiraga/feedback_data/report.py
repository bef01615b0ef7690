"""The report for model developers: per model and task, how users rated the answers, how often they
corrected them and why answers failed (the 👎 categories, those inferred from a comment counted
apart), with the comments on 👎 answers as examples, all taken from exportable items only
(approved, within policy, consented), so the report shows nothing an export would not."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from hiraga.feedback_data.export import BATCH, ExportFilter, check_filters, exportable
from hiraga.spine.authorize import AccessScope

EXAMPLES = 5


@dataclass(slots=True)
class TaskRates:
    good: int = 0
    bad: int = 0
    corrected: int = 0
    preferred: int = 0  # arena pairs this model won
    failures: dict[str, int] = field(default_factory=dict)  # 👎 category → count (chosen or inferred)
    inferred: dict[str, int] = field(default_factory=dict)  # of those, how many were inferred from the comment
    uncategorised: int = 0  # 👎 with no category

    @property
    def rated(self) -> int:
        return self.good + self.bad

    @property
    def good_rate(self) -> float | None:
        return self.good / self.rated if self.rated else None


@dataclass(slots=True)
class ModelReport:
    model: str
    tasks: dict[str, TaskRates] = field(default_factory=lambda: defaultdict(TaskRates))
    complaints: list[str] = field(default_factory=list)  # scrubbed comments on 👎 answers


def report(db: Session, scope: AccessScope, filters: ExportFilter) -> list[ModelReport]:
    check_filters(scope, filters)
    models: dict[str, ModelReport] = {}
    for item, _policy, _team in db.execute(exportable(scope, filters).execution_options(yield_per=BATCH)):
        name = item.model_name or "(不明)"
        entry = models.setdefault(name, ModelReport(name))
        rates = entry.tasks[item.task]
        content = json.loads(item.content)
        if item.source == "arena":
            rates.preferred += 1
            continue
        if item.rating == "good":
            rates.good += 1
        elif item.rating == "bad":
            rates.bad += 1
            _count_failure(rates, item.category, item.category_inferred)
            comment = str(content.get("comment", "")).strip()
            if comment and len(entry.complaints) < EXAMPLES:
                entry.complaints.append(comment[:500])
        if content.get("corrected"):
            rates.corrected += 1
    return sorted(models.values(), key=lambda m: m.model)


def _count_failure(rates: TaskRates, category: str, inferred: bool) -> None:
    if not category:
        rates.uncategorised += 1
        return
    rates.failures[category] = rates.failures.get(category, 0) + 1
    if inferred:
        rates.inferred[category] = rates.inferred.get(category, 0) + 1
