from __future__ import annotations

from hiraga import i18n


def test_negotiation_prefers_explicit_choice_then_user_then_browser() -> None:
    assert i18n.negotiate(chosen="en", user_locale="ja", accept_language="ja", default="ja") == "en"
    assert i18n.negotiate(chosen=None, user_locale="en", accept_language="ja", default="ja") == "en"
    assert i18n.negotiate(chosen="xx", user_locale=None, accept_language="fr-FR,en;q=0.8", default="ja") == "en"
    assert i18n.negotiate(chosen=None, user_locale=None, accept_language="fr", default="ja") == "ja"


def test_japanese_is_the_source_language() -> None:
    assert i18n.translator("ja")("ログイン") == "ログイン"
    assert i18n.translator("de")("ログイン") == "ログイン"  # unsupported → Japanese
