"""What a running app holds: settings, the database and the template environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hiraga.feedback_data.categories import CATEGORIES
from hiraga.settings import Settings
from hiraga.store.database import Database

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def make_templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["yen"] = format_yen
    environment.globals["feedback_categories"] = CATEGORIES  # the 👎 reasons of every feedback form
    return environment


def format_yen(value: Decimal | float | int | str | None) -> str:
    """Money as staff read it: 「1,234 円」, 「0.89 円」, 「0.01 円未満」 (not 「0.890000 円」)."""
    amount = Decimal(str(value or 0))
    if amount == 0:
        return "0 円"
    if abs(amount) < Decimal("0.01"):
        return "0.01 円未満"
    if abs(amount) >= 100:
        return f"{amount:,.0f} 円"
    return f"{amount:,.2f}".rstrip("0").rstrip(".") + " 円"


@dataclass
class AppContext:
    settings: Settings
    database: Database
    templates: Environment = field(default_factory=make_templates)
    extras: dict[str, Any] = field(default_factory=dict)  # per-feature state (e.g. the gateway)
