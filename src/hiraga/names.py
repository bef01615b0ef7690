"""Names people give things (organisations, teams, display names, knowledge bases, apps, bots, API
keys, conversation titles): the one rule for which characters a name may hold. NUL and the other
control characters are refused: PostgreSQL cannot store NUL at all, and no name needs either."""

from __future__ import annotations

import re

from hiraga.errors import InvalidInput

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line breaks are whitespace


def check_characters(name: str, field: str = "name") -> str:
    """``name`` unchanged, or InvalidInput naming ``field`` when it holds a control character."""
    if CONTROL_CHARACTERS.search(name):
        raise InvalidInput("名前に NUL などの制御文字は使えません。", code="invalid_name", detail={"field": field})
    return name
