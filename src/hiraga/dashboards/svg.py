"""Charts as server-side SVG: no script, no CDN, readable without colour.

Every chart has a ``<title>`` and a ``<desc>`` (named by ``aria-labelledby``), prints each value
as text next to its bar, and the page shows the same numbers as a table and offers them as CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from itertools import count

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 180
PLOT_WIDTH = 420
VALUE_WIDTH = 120
_ids = count(1)

Point = tuple[str, Decimal | int]


def _fmt(value: Decimal | int, unit: str) -> str:
    number = f"{value:,.0f}" if isinstance(value, int) or value == value.to_integral() else f"{value:,.2f}"
    return f"{number}{unit}"


def _frame(title: str, desc: str, width: int, height: int, body: list[str]) -> str:
    n = next(_ids)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" aria-labelledby="chart-t{n} chart-d{n}">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(title: str, desc: str, points: Sequence[Point], unit: str = "") -> str:
    """Horizontal bars, one per label, each with its value written beside it."""
    top = max((p[1] for p in points), default=0) or 1
    height = max(1, len(points)) * (BAR_HEIGHT + GAP) + GAP
    body: list[str] = []
    for i, (label, value) in enumerate(points):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = int(PLOT_WIDTH * float(value) / float(top))
        short = label if len(label) <= 14 else label[:13] + "…"
        body.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="chart-label">{escape(short)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{max(width, 1)}" height="{BAR_HEIGHT}" class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + max(width, 1) + 6}" y="{y + 15}" class="chart-value">{_fmt(value, unit)}</text>'
        )
    if not points:
        body.append(f'<text x="{GAP}" y="20" class="chart-label">データなし</text>')
    return _frame(title, desc, LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH, height, body)


def column_chart(title: str, desc: str, points: Sequence[Point], unit: str = "") -> str:
    """Vertical columns in order (days); the largest value is labelled, the rest are in the table."""
    plot_height, column = 160, 16
    top = max((p[1] for p in points), default=0) or 1
    width = max(1, len(points)) * (column + 4) + 60
    body = [f'<line x1="50" y1="{plot_height + 10}" x2="{width}" y2="{plot_height + 10}" class="chart-axis"/>']
    body.append(f'<text x="4" y="16" class="chart-value">{_fmt(top, unit)}</text>')
    for i, (label, value) in enumerate(points):
        h = int(plot_height * float(value) / float(top))
        x = 54 + i * (column + 4)
        body.append(
            f'<rect x="{x}" y="{plot_height + 10 - h}" width="{column}" height="{h}" class="chart-bar">'
            f"<title>{escape(label)}: {_fmt(value, unit)}</title></rect>"
        )
        if i % 5 == 0:
            body.append(f'<text x="{x}" y="{plot_height + 26}" class="chart-label">{escape(label[-2:])}</text>')
    return _frame(title, desc, width, plot_height + 34, body)
