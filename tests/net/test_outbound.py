"""The hardened outbound client: every blocked address range, the allow-list, DNS pinning against
rebinding, no redirects, the response cap and the Host header — against a real local HTTP server; and
the blocking transport (for authlib's OAuth client) and the async one (for the MCP client) that pin
the same way."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx2
import pytest

from hiraga.errors import HiragaError
from hiraga.net.outbound import (
    AsyncPinnedTransport,
    OutboundClient,
    OutboundFailed,
    OutboundRefused,
    PinnedTransport,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Recorder.seen.append((self.path, self.headers.get("host")))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/undeclared":  # no Content-Length: the body runs until the connection closes
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 4096)
            return
        body = b"x" * (4096 if self.path == "/big" else 2)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def local_server() -> Iterator[int]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


BLOCKED = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "::1",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # link-local / cloud metadata
    "169.254.1.1",
    "fe80::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fc00::1",  # unique local
    "224.0.0.1",  # multicast
    "ff02::1",
    "0.0.0.0",  # unspecified
    "240.0.0.1",  # reserved
    "::ffff:10.0.0.1",  # IPv4-mapped private
]


@pytest.mark.parametrize("address", BLOCKED)
async def test_every_non_public_range_is_refused_by_name(address: str):
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    with pytest.raises(OutboundRefused) as caught:
        await OutboundClient(resolver=resolver).request("GET", "http://app.example.jp/x")
    assert address in caught.value.message or address.split("::ffff:")[-1] in caught.value.message
    assert "接続できません" in caught.value.message


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "[::1]", "169.254.169.254"])
async def test_literal_addresses_are_refused_too(address: str):
    with pytest.raises(OutboundRefused):
        await OutboundClient().request("GET", f"http://{address}/")


async def test_one_private_address_among_public_ones_is_enough_to_refuse():
    async def resolver(host: str, port: int) -> list[str]:
        return ["8.8.8.8", "10.0.0.1"]

    with pytest.raises(OutboundRefused):
        await OutboundClient(resolver=resolver).request("GET", "http://mixed.example.jp/")


async def test_an_allow_listed_host_may_be_internal_and_keeps_its_host_header(local_server: int):
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    client = OutboundClient(allowed_hosts=["intranet.city.local"], resolver=resolver)
    response = await client.request("GET", f"http://intranet.city.local:{local_server}/hello")
    assert response.status == 200
    assert response.peer_address == "127.0.0.1"
    assert Recorder.seen == [("/hello", f"intranet.city.local:{local_server}")]


async def test_metadata_addresses_stay_blocked_even_for_allow_listed_hosts():
    async def resolver(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]

    client = OutboundClient(allowed_hosts=["metadata.internal"], resolver=resolver)
    with pytest.raises(OutboundRefused) as caught:
        await client.request("GET", "http://metadata.internal/latest/")
    assert "メタデータ" in caught.value.message


async def test_dns_rebinding_cannot_reach_the_inside(local_server: int):
    """The name resolves to a public address when checked and to loopback afterwards: the request
    must go to the first (checked) address, never to the local server."""
    answers = [["1.1.1.1"], ["127.0.0.1"], ["127.0.0.1"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls) - 1, 2)]

    client = OutboundClient(resolver=rebinding)
    _, _, pinned = await client.pin(f"http://rebind.example.jp:{local_server}/")
    assert pinned == "1.1.1.1"
    with pytest.raises(HiragaError):
        await client.request("GET", f"http://rebind.example.jp:{local_server}/secret", timeout=1)
    assert Recorder.seen == []  # nothing reached the loopback server
    assert len(calls) == 2  # one resolution per request, none at connect time


async def test_redirects_are_not_followed(local_server: int):
    client = OutboundClient(allowed_hosts=["127.0.0.1"])
    with pytest.raises(OutboundFailed) as caught:
        await client.request("GET", f"http://127.0.0.1:{local_server}/redirect")
    assert caught.value.code == "outbound_redirect"
    assert [path for path, _ in Recorder.seen] == ["/redirect"]


async def test_responses_over_the_cap_are_refused(local_server: int):
    client = OutboundClient(allowed_hosts=["127.0.0.1"], max_response_bytes=1000)
    with pytest.raises(OutboundFailed) as caught:
        await client.request("GET", f"http://127.0.0.1:{local_server}/big")
    assert caught.value.code == "outbound_response_too_large"
    small = await client.request("GET", f"http://127.0.0.1:{local_server}/small")
    assert small.body == b"xx"


@pytest.mark.parametrize(
    "url", ["ftp://example.jp/", "http://user:pw@example.jp/", "http:///nohost", "http://example.jp:99999/"]
)
async def test_malformed_urls_are_refused(url: str):
    with pytest.raises(OutboundRefused):
        await OutboundClient().request("GET", url)


async def test_unresolvable_names_fail_clearly():
    async def nothing(host: str, port: int) -> list[str]:
        raise OSError("NXDOMAIN")

    with pytest.raises(OutboundFailed) as caught:
        await OutboundClient(resolver=nothing).request("GET", "http://nowhere.example.jp/")
    assert caught.value.code == "outbound_unresolvable"


def test_tls_is_verified_by_default():
    assert OutboundClient().verify_tls is True


def test_the_blocking_transport_pins_against_rebinding_too(local_server: int):
    answers = [["1.1.1.1"], ["127.0.0.1"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls) - 1, 1)]

    with (
        httpx2.Client(transport=PinnedTransport(OutboundClient(resolver=rebinding)), timeout=1) as client,
        pytest.raises(httpx2.HTTPError),
    ):
        client.get(f"http://rebind.example.jp:{local_server}/secret")
    assert Recorder.seen == []  # nothing reached the loopback server
    assert calls == ["rebind.example.jp"]  # one resolution, none at connect time


def test_the_blocking_transport_refuses_inside_and_keeps_the_host_header_when_allow_listed(local_server: int):
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    url = f"http://intranet.city.local:{local_server}/hello?x=1"
    strict = PinnedTransport(OutboundClient(resolver=resolver))
    with httpx2.Client(transport=strict) as client, pytest.raises(OutboundRefused):
        client.get(url)
    allowed = OutboundClient(allowed_hosts=["intranet.city.local"], resolver=resolver)
    with httpx2.Client(transport=PinnedTransport(allowed)) as client:
        response = client.get(url)
    assert response.status_code == 200 and response.request.url == httpx2.URL(url)
    assert Recorder.seen == [("/hello?x=1", f"intranet.city.local:{local_server}")]


async def test_the_async_transport_pins_every_request_against_rebinding(local_server: int):
    answers = [["1.1.1.1"], ["127.0.0.1"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls) - 1, 1)]

    transport = AsyncPinnedTransport(OutboundClient(resolver=rebinding))
    async with httpx2.AsyncClient(transport=transport, timeout=1) as client:
        with pytest.raises(httpx2.HTTPError):
            await client.get(f"http://rebind.example.jp:{local_server}/secret")
        assert calls == ["rebind.example.jp"]  # one resolution, none at connect time
        with pytest.raises(OutboundRefused):  # the next request is resolved and checked again
            await client.get(f"http://rebind.example.jp:{local_server}/secret")
    assert Recorder.seen == []  # nothing reached the loopback server


async def test_the_async_transport_keeps_the_host_header(local_server: int):
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    allowed = OutboundClient(allowed_hosts=["intranet.city.local"], resolver=resolver)
    url = f"http://intranet.city.local:{local_server}/hello?x=1"
    async with httpx2.AsyncClient(transport=AsyncPinnedTransport(allowed)) as client:
        response = await client.get(url)
    assert response.status_code == 200 and response.request.url == httpx2.URL(url)
    assert Recorder.seen == [("/hello?x=1", f"intranet.city.local:{local_server}")]


@pytest.fixture
def hello_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener that keeps the first bytes a client sends (a TLS ClientHello) and hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def accept_one() -> None:
        connection, _ = listener.accept()
        with connection:
            received.append(connection.recv(16384))

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    yield listener.getsockname()[1], received
    listener.close()
    thread.join(timeout=5)


async def test_the_async_transport_pins_https_and_keeps_the_name_for_tls(hello_listener: tuple[int, list[bytes]]):
    """The name resolves nowhere but through the guard; the TLS handshake reached the pinned address
    and named the real host (SNI, and so the certificate check)."""
    port, received = hello_listener

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    allowed = OutboundClient(allowed_hosts=["intranet.city.local"], resolver=resolver)
    async with httpx2.AsyncClient(transport=AsyncPinnedTransport(allowed), timeout=2) as client:
        with pytest.raises(httpx2.ConnectError):
            await client.get(f"https://intranet.city.local:{port}/hello")
    assert len(received) == 1 and received[0].startswith(b"\x16\x03")  # a TLS handshake record
    assert b"intranet.city.local" in received[0]


@pytest.mark.parametrize("path", ["/big", "/undeclared"])
def test_the_blocking_transport_cuts_a_body_over_the_cap_declared_or_not(local_server: int, path: str):
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    outbound = OutboundClient(allowed_hosts=["intranet.city.local"], resolver=resolver, max_response_bytes=1000)
    with httpx2.Client(transport=PinnedTransport(outbound)) as client:
        assert client.get(f"http://intranet.city.local:{local_server}/small").content == b"xx"
        with pytest.raises(OutboundFailed) as caught:
            client.get(f"http://intranet.city.local:{local_server}{path}")
    assert caught.value.code == "outbound_response_too_large"
