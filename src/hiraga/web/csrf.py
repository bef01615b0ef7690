"""CSRF protection for every state-changing request that is not made with an API key.

A random nonce lives in the ``hiraga_csrf`` cookie (SameSite=Strict); forms and HTMX send
``HMAC(secret, nonce)`` as the ``csrf_token`` field or the ``X-CSRF-Token`` header. A forged
cookie is useless without the server's secret, and the check needs no server-side state."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from hiraga.errors import CsrfRejected, OriginRejected

COOKIE = "hiraga_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def token_for(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def nonce_for(request: Request) -> str:
    """The request's nonce; a new one (set on the response by the caller) if it has none."""
    nonce = request.cookies.get(COOKIE)
    if not nonce or len(nonce) > 100:
        nonce = getattr(request.state, "new_csrf_nonce", None) or secrets.token_urlsafe(24)
        request.state.new_csrf_nonce = nonce
    return nonce


def needs_check(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return False
    # /v1, /gennai and /scim authenticate by header keys only, never by cookie: nothing to forge
    return not request.headers.get("authorization") and not request.url.path.startswith(("/v1/", "/gennai/", "/scim/"))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request, base_url: str) -> None:
    """A browser names the page a request comes from (``Origin``); one from another site is refused
    whatever it carries. Without the header (older browsers, same-origin GET-to-POST flows of some
    clients) the CSRF token alone decides."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin.strip().rstrip("/").lower() not in {origin_of(base_url), origin_of(str(request.base_url))}:
        raise OriginRejected(detail={"origin": origin[:200]})


async def verify(request: Request, secret: str) -> None:
    nonce = request.cookies.get(COOKIE)
    presented = request.headers.get(HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(FIELD)
        presented = value if isinstance(value, str) else None
    if not nonce or not presented or not hmac.compare_digest(token_for(secret, nonce), presented):
        raise CsrfRejected()
