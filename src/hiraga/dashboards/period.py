"""The period a dashboard covers: a calendar month in Japan time, as budgets are counted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hiraga.errors import InvalidInput
from hiraga.usage.windows import JST

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
ACTIVE_DAYS = 30


@dataclass(frozen=True, slots=True)
class Period:
    month: str  # YYYY-MM
    since: datetime  # inclusive, UTC
    until: datetime  # exclusive, UTC

    @property
    def days(self) -> list[str]:
        first = self.since.astimezone(JST).date()
        count = (self.until - self.since).days
        return [(first + timedelta(days=i)).isoformat() for i in range(count)]


def month_period(month: str | None, now: datetime | None = None) -> Period:
    """``YYYY-MM`` (Japan time); the current month when omitted."""
    local = (now or datetime.now(UTC)).astimezone(JST)
    text = month or f"{local:%Y-%m}"
    match = MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput("月は YYYY-MM の形で指定してください（例: 2026-04）。", detail={"field": "month"})
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=JST)
    end = datetime(year + 1, 1, 1, tzinfo=JST) if number == 12 else datetime(year, number + 1, 1, tzinfo=JST)
    return Period(text, start.astimezone(UTC), end.astimezone(UTC))
