"""A real OpenID Connect provider in the test process: oidc-provider-mock (authlib's authorisation server
on Flask: discovery, authorisation form, token endpoint with code replay protection, userinfo, end-session)
served by werkzeug on a thread, behind a small WSGI layer that lets a test misbehave the way real providers
do: rotate or swap its signing keys, sign with an unknown key or with ``alg: none``, change the claims of
the ID token it issues (wrong audience, issuer, expired, another nonce), answer slowly, or be down."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

StartResponse = Callable[..., Any]
Claims = dict[str, Any]


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _payload(token: str) -> Claims:
    segment = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


@dataclass
class Behaviour:
    """What the provider does now; ``reset()`` between tests."""

    published: list[RSAKey] = field(default_factory=list)  # the JWKS it serves
    signing_key: RSAKey | None = None  # None: sign with alg "none"
    mutate: Callable[[Claims], Claims] | None = None
    delay_seconds: float = 0.0
    down: bool = False
    jwks_fetches: int = 0


class MisbehavingProvider:
    """WSGI: oidc-provider-mock inside; ID tokens re-signed with keys this layer publishes at /jwks."""

    def __init__(self) -> None:
        self.inner = oidc_provider_mock.app(require_nonce=True)
        self.behaviour = Behaviour()
        self.reset()

    def reset(self) -> None:
        key = new_key("key-1")
        self.behaviour = Behaviour(published=[key], signing_key=key)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        behaviour = self.behaviour
        if behaviour.down:
            return self._answer(start_response, "503 Service Unavailable", {"error": "down"})
        path = environ.get("PATH_INFO", "")
        if path == "/jwks":
            behaviour.jwks_fetches += 1
            keys = [key.as_dict(private=False) for key in behaviour.published]
            return self._answer(start_response, "200 OK", {"keys": keys})
        if path == "/oauth2/token":
            if behaviour.delay_seconds:
                time.sleep(behaviour.delay_seconds)
            return self._token(environ, start_response, behaviour)
        return self.inner(environ, start_response)

    def _token(self, environ: dict[str, Any], start_response: StartResponse, behaviour: Behaviour) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _: None

        body = b"".join(self.inner(environ, capture))
        if not captured["status"].startswith("200"):
            start_response(captured["status"], captured["headers"])
            return [body]
        token = json.loads(body)
        claims = _payload(token["id_token"])
        if behaviour.mutate is not None:
            claims = behaviour.mutate(claims)
        token["id_token"] = self._sign(claims, behaviour.signing_key)
        return self._answer(start_response, "200 OK", token)

    @staticmethod
    def _sign(claims: Claims, key: RSAKey | None) -> str:
        if key is None:
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    @staticmethod
    def _answer(start_response: StartResponse, status: str, body: object) -> Iterable[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


@dataclass
class RunningProvider:
    issuer: str
    app: MisbehavingProvider

    @property
    def behaviour(self) -> Behaviour:
        return self.app.behaviour

    def set_user(self, sub: str, claims: Claims) -> None:
        """Through the provider's own API (PUT /users/<sub>)."""
        httpx.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10).raise_for_status()

    def authorize(self, authorization_url: str, sub: str) -> str:
        """What the user does at the provider's form (POST sub): the redirect back to hiraga, as a URL."""
        response = httpx.post(authorization_url, data={"sub": sub}, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def deny(self, authorization_url: str) -> str:
        response = httpx.post(authorization_url, data={"action": "deny"}, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@contextmanager
def running_provider() -> Iterator[RunningProvider]:
    app = MisbehavingProvider()
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield RunningProvider(f"http://localhost:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(5)
