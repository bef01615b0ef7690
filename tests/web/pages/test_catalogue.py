"""Every UI string in the templates has an English translation in the catalogue."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir

from hiraga import i18n
from hiraga.web.context import TEMPLATES_DIR


def test_every_template_message_is_translated_to_english() -> None:
    method_map = [("**.html", "jinja2")]
    messages = {str(m[2]) for m in extract_from_dir(str(TEMPLATES_DIR), method_map=method_map)}
    assert len(messages) > 50
    english = i18n.catalogue("en")
    missing = sorted(m for m in messages if not english.get(m))
    assert missing == []
