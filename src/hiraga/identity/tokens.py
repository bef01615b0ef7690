"""Random secrets shown once (API keys, session tokens, setup tokens) and their stored digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_PREFIX = "hk-"


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """SHA-256 is right for 256-bit random tokens: no dictionary exists to attack."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + new_token(32)


def api_key_prefix(key: str) -> str:
    """The first characters, stored in clear so that users can tell their keys apart."""
    return key[:11]


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
