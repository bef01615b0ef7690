"""The OpenID Connect relying party, built on authlib: discovery, the authorisation URL (state, nonce,
PKCE S256), the code exchange, ID-token validation (issuer, audience, expiry, nonce, signature by the
provider's JWKS, refetched once when a token names a key it does not hold: key rotation), userinfo and
the RP-initiated logout URL.

Only asymmetric signatures are accepted (never ``none``, never an HMAC keyed by the client secret). Every
HTTP call goes through the outbound guard (``net.outbound``): the provider's name is resolved once, the
address is checked and the connection goes to that address (no DNS rebinding between check and connect);
a provider on an internal address must be listed in ``HIRAGA_ALLOWED_UPSTREAM_HOSTS``. Redirects are not
followed; each call has a timeout. Discovery documents and key sets are cached per process for an hour."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from hiraga.identity.sso.errors import SsoFailed
from hiraga.net.outbound import OutboundClient, OutboundFailed, OutboundRefused, PinnedTransport

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CACHE_SECONDS = 3600.0
CLOCK_LEEWAY_SECONDS = 60
MAX_RESPONSE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RelyingPartyConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    redirect_uri: str
    allowed_hosts: tuple[str, ...] = ()
    timeout: float = 10.0


@dataclass(slots=True)
class _Discovered:
    metadata: dict[str, Any]
    jwks: dict[str, Any] | None = None
    fetched_at: float = field(default_factory=time.monotonic)


_cache: dict[str, _Discovered] = {}
_cache_lock = threading.Lock()


def forget_cached(issuer: str | None = None) -> None:
    """Drop cached discovery documents and key sets (all, or one issuer's): after a provider changes."""
    with _cache_lock:
        if issuer is None:
            _cache.clear()
        else:
            _cache.pop(issuer, None)


@contextmanager
def _provider_call(step: str) -> Iterator[None]:
    """Network, protocol and JSON failures of one call to the provider, as SsoFailed naming the step."""
    try:
        yield
    except SsoFailed:
        raise
    except OutboundRefused as error:
        raise SsoFailed("provider_refused", detail={"step": step, **error.detail}) from error
    except OutboundFailed as error:
        raise SsoFailed("provider_unavailable", detail={"step": step, "error": error.code}) from error
    except httpx2.TimeoutException as error:
        raise SsoFailed("provider_timeout", detail={"step": step}) from error
    except OAuthError as error:
        raise SsoFailed("provider_error", detail={"step": step, "error": str(error.error)[:100]}) from error
    except (httpx2.HTTPError, ValueError, KeyError, TypeError) as error:
        raise SsoFailed("provider_unavailable", detail={"step": step, "error": type(error).__name__}) from error


class RelyingParty:
    def __init__(self, config: RelyingPartyConfig) -> None:
        self.config = config

    def _client(self) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            token_endpoint_auth_method="client_secret_basic" if self.config.client_secret else "none",
            scope=self.config.scopes,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            transport=PinnedTransport(  # a provider's answers are small: a huge one is cut off, chunked or not
                OutboundClient(allowed_hosts=self.config.allowed_hosts, max_response_bytes=MAX_RESPONSE_BYTES)
            ),
            timeout=self.config.timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def _get_json(self, url: str, step: str) -> dict[str, Any]:
        with _provider_call(step), self._client() as client:
            response = client.request("GET", url, withhold_token=True)
            response.raise_for_status()
            body = response.json()
        if not isinstance(body, dict):
            raise SsoFailed("provider_unavailable", detail={"step": step, "error": "not_an_object"})
        return body

    # -- discovery ---------------------------------------------------------------------------------
    def _discovered(self) -> _Discovered:
        issuer = self.config.issuer
        with _cache_lock:
            cached = _cache.get(issuer)
        if cached is not None and time.monotonic() - cached.fetched_at < CACHE_SECONDS:
            return cached
        metadata = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
        if str(metadata.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            raise SsoFailed("provider_unavailable", detail={"step": "discovery", "error": "issuer_mismatch"})
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(name), str):
                raise SsoFailed("provider_unavailable", detail={"step": "discovery", "error": f"no_{name}"})
        discovered = _Discovered(metadata)
        with _cache_lock:
            _cache[issuer] = discovered
        return discovered

    def metadata(self) -> Mapping[str, Any]:
        return self._discovered().metadata

    # -- the authorisation-code flow ---------------------------------------------------------------
    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        endpoint = self.metadata()["authorization_endpoint"]
        with self._client() as client:
            url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=code_verifier, nonce=nonce)
        return str(url)

    def exchange_code(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        endpoint = self.metadata()["token_endpoint"]
        with _provider_call("token"), self._client() as client:
            token = client.fetch_token(
                endpoint, grant_type="authorization_code", code=code, code_verifier=code_verifier
            )
        if not isinstance(token.get("id_token"), str) or not isinstance(token.get("access_token"), str):
            raise SsoFailed("token_invalid", detail={"check": "no_id_token"})
        return dict(token)

    def validate_id_token(self, id_token: str, *, nonce: str, access_token: str | None) -> dict[str, Any]:
        """The ID token's claims, after every check; SsoFailed("token_invalid") naming the failed one."""
        discovered = self._discovered()
        offered = discovered.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ASYMMETRIC_ALGORITHMS]
        if not algorithms:
            raise SsoFailed("token_invalid", detail={"check": "no_asymmetric_algorithm"})
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                token = jwt.decode(id_token, self._key_set(discovered, refresh=False), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
                token = jwt.decode(id_token, self._key_set(discovered, refresh=True), registry=registry)
            options: dict[str, Any] = {
                "iss": {"essential": True, "value": self.config.issuer},
                "aud": {"essential": True, "value": self.config.client_id},
                "exp": {"essential": True},
            }
            params = {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token}
            claims = CodeIDToken(token.claims, token.header, options, params)
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except JoseError as error:
            raise SsoFailed("token_invalid", detail={"check": _check_name(error)}) from error
        except ValueError as error:
            raise SsoFailed("token_invalid", detail={"check": "malformed"}) from error
        if claims.get("nonce") != nonce:
            raise SsoFailed("token_invalid", detail={"check": "nonce"})
        return dict(claims)

    def _key_set(self, discovered: _Discovered, *, refresh: bool) -> KeySet:
        if discovered.jwks is None or refresh:
            discovered.jwks = self._get_json(discovered.metadata["jwks_uri"], "jwks")
        try:
            return KeySet.import_key_set(discovered.jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as error:
            raise SsoFailed("provider_unavailable", detail={"step": "jwks", "error": "bad_key_set"}) from error

    def userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        """The userinfo claims, if the provider has the endpoint; ``sub`` must be the ID token's."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        with _provider_call("userinfo"), self._client() as client:
            client.token = {"access_token": access_token, "token_type": "Bearer"}
            response = client.get(endpoint)
            response.raise_for_status()
            body = response.json()
        if not isinstance(body, dict) or body.get("sub") != subject:
            raise SsoFailed("token_invalid", detail={"check": "userinfo_sub"})
        return body

    def end_session_url(self, *, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to end the provider's session too (None: the provider has no endpoint)."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        params = {
            "id_token_hint": id_token_hint,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "client_id": self.config.client_id,
        }
        return str(httpx.URL(endpoint, params=params))


def _check_name(error: JoseError) -> str:
    """Which check failed, for the audit record: the claim's name, or the kind of signature failure."""
    claim = getattr(error, "claim", None)
    if isinstance(claim, str):
        return claim
    return str(getattr(error, "error", "") or type(error).__name__)[:60]
