"""Limit windows: which window a moment falls in, when it ends, and the counter's key.

Minute windows are fixed (aligned to the clock minute). Day and month windows follow the
calendar in Japan time (JST, UTC+9, no daylight saving), as staff expect a budget to reset at
midnight in Tokyo.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

from hiraga.store.tables.usage import LimitWindow

JST = timezone(timedelta(hours=9), "JST")
COUNTER_GRACE_S = 120  # counters outlive their window a little so late reconciliations still land


def window_bounds(window: LimitWindow, now: float) -> tuple[str, float]:
    """The window's stamp (part of the counter key) and its end, in epoch seconds."""
    if window is LimitWindow.MINUTE:
        start = math.floor(now / 60)
        return f"m{start}", (start + 1) * 60.0
    local = datetime.fromtimestamp(now, JST)
    if window is LimitWindow.DAY:
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return f"d{local:%Y%m%d}", midnight.astimezone(UTC).timestamp()
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    next_month = datetime(year, month, 1, tzinfo=JST)
    return f"M{local:%Y%m}", next_month.astimezone(UTC).timestamp()


def counter_key(limit_id: int, window: LimitWindow, now: float) -> tuple[str, float]:
    """The key of the counter for ``limit_id`` in the window containing ``now``, and its end."""
    stamp, ends_at = window_bounds(window, now)
    return f"{limit_id}:{stamp}", ends_at


def retry_after_seconds(ends_at: float, now: float) -> int:
    return max(1, math.ceil(ends_at - now))
