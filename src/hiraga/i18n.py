"""Translations. Japanese is the source language: messages in code and templates are Japanese,
and ``locale/<lang>/LC_MESSAGES/messages.po`` translates them (English today)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("ja", "en")
DEFAULT = "ja"

Translate = Callable[[str], str]


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def translator(lang: str) -> Translate:
    table = catalogue(lang if lang in SUPPORTED else DEFAULT)

    def translate(message: str) -> str:
        return table.get(message, message)

    return translate


def negotiate(*, chosen: str | None, user_locale: str | None, accept_language: str | None, default: str) -> str:
    """An explicit choice wins, then the user's setting, then the browser's first supported language."""
    for candidate in (chosen, user_locale):
        if candidate in SUPPORTED:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in SUPPORTED:
            return tag
    return default if default in SUPPORTED else DEFAULT
