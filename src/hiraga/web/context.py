"""What a running app holds: settings, the database and the template environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hiraga.settings import Settings
from hiraga.store.database import Database

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def make_templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class AppContext:
    settings: Settings
    database: Database
    templates: Environment = field(default_factory=make_templates)
    extras: dict[str, Any] = field(default_factory=dict)  # per-feature state (e.g. the gateway)
