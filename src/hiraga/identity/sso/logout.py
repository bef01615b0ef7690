"""Logout: the session ends here, the audit chain records it, and a session that a provider started
is sent on to the provider's end-session endpoint (RP-initiated logout) with the ID token as hint."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hiraga.audit import events
from hiraga.errors import ConfigurationError
from hiraga.identity import tokens
from hiraga.identity.principal import Principal
from hiraga.identity.sso.errors import SsoFailed
from hiraga.identity.sso.providers import relying_party, secret_box
from hiraga.settings import Settings
from hiraga.store.tables import SsoProvider, SsoSession

LOGGED_OUT_PATH = "/login?notice=logged_out"


def sign_out(db: Session, settings: Settings, session_token: str, principal: Principal | None) -> str | None:
    """Audit the logout; the provider's end-session URL when the session came from one (None otherwise,
    or when the provider cannot be reached: the local session ends all the same)."""
    row = db.get(SsoSession, tokens.digest(session_token))
    provider = db.get(SsoProvider, row.provider_id) if row is not None else None
    url = None
    if row is not None and provider is not None:
        back = settings.base_url.rstrip("/") + LOGGED_OUT_PATH
        try:
            hint = secret_box(settings).decrypt(row.id_token_enc)
            url = relying_party(provider, settings).end_session_url(id_token_hint=hint, post_logout_redirect_uri=back)
        except (SsoFailed, ConfigurationError):
            url = None
        if url is not None:
            url += "&state=" + tokens.new_token(16)
    if principal is not None:
        facts = {"provider": provider.slug if provider else None, "provider_logout": url is not None}
        events.record(db, events.LOGOUT, principal, subject=provider.slug if provider else None, detail=facts)
    return url
