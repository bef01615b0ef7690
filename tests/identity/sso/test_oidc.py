"""The relying party's calls to a provider go through the pinned outbound guard: the provider's name is
resolved once, the address is checked, and the connection goes to exactly that address, so a DNS answer
that changes between the check and the connection (rebinding) cannot reach an internal server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from hiraga.identity.sso.errors import SsoFailed
from hiraga.identity.sso.oidc import RelyingParty, RelyingPartyConfig


class Inside(BaseHTTPRequestHandler):
    """An internal server that answers a discovery document for whatever issuer it was asked by."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Inside.seen.append((self.path, self.headers.get("host")))
        if self.path.startswith("/huge/"):  # 2 MB, no Content-Length: only counting the bytes finds out
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"issuer": "' + b"x" * 2_000_000 + b'"}')
            return
        issuer = f"http://{self.headers.get('host')}"
        endpoints = {"authorization_endpoint": "/a", "token_endpoint": "/t", "jwks_uri": "/k"}
        body = json.dumps({"issuer": issuer, **{name: issuer + path for name, path in endpoints.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def inside_port() -> Iterator[int]:
    Inside.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Inside)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def fake_dns(monkeypatch: pytest.MonkeyPatch, host: str, answers: list[str]) -> list[str]:
    """``host`` resolves to ``answers[0]``, then to ``answers[1]``... (the last one from then on), for
    every resolver in the process; returns the list of lookups made for it."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(name: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if name != host:
            return real(name, port, *args, **kwargs)
        lookups.append(name)
        address = answers[min(len(lookups), len(answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def relying_party(issuer: str, allowed_hosts: tuple[str, ...] = ()) -> RelyingParty:
    config = RelyingPartyConfig(
        issuer=issuer,
        client_id="hiraga",
        client_secret=None,
        scopes="openid",
        redirect_uri="http://testserver/auth/sso/city/callback",
        allowed_hosts=allowed_hosts,
        timeout=1.0,
    )
    return RelyingParty(config)


def test_dns_rebinding_cannot_steer_a_provider_call_inside(monkeypatch: pytest.MonkeyPatch, inside_port: int):
    """Public when checked, loopback afterwards: the call goes to the checked address, never inside."""
    lookups = fake_dns(monkeypatch, "idp.example.jp", ["1.1.1.1", "127.0.0.1"])
    with pytest.raises(SsoFailed) as caught:
        relying_party(f"http://idp.example.jp:{inside_port}").metadata()
    assert caught.value.reason in ("provider_unavailable", "provider_timeout")
    assert Inside.seen == []  # nothing reached the internal server
    assert lookups == ["idp.example.jp"]  # one resolution, none at connect time


def test_a_name_on_an_internal_address_is_refused_unless_allow_listed(
    monkeypatch: pytest.MonkeyPatch, inside_port: int
):
    fake_dns(monkeypatch, "idp.city.local", ["127.0.0.1"])
    issuer = f"http://idp.city.local:{inside_port}"
    with pytest.raises(SsoFailed) as caught:
        relying_party(issuer).metadata()
    assert caught.value.reason == "provider_refused"
    assert Inside.seen == []
    metadata = relying_party(issuer, allowed_hosts=("idp.city.local",)).metadata()
    assert metadata["token_endpoint"] == f"{issuer}/t"
    assert Inside.seen == [("/.well-known/openid-configuration", f"idp.city.local:{inside_port}")]  # real Host


def test_a_huge_answer_is_cut_off_even_without_a_declared_length(monkeypatch: pytest.MonkeyPatch, inside_port: int):
    fake_dns(monkeypatch, "idp.city.local", ["127.0.0.1"])
    party = relying_party(f"http://idp.city.local:{inside_port}/huge", allowed_hosts=("idp.city.local",))
    with pytest.raises(SsoFailed) as caught:
        party.metadata()
    assert caught.value.reason == "provider_unavailable"
    assert caught.value.detail["error"] == "outbound_response_too_large"
