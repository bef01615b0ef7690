"""The client's address: X-Forwarded-For only from trusted proxies, walked right to left."""

from __future__ import annotations

import pytest

from hiraga.errors import ConfigurationError
from hiraga.net.client_address import UNKNOWN, TrustedProxies
from hiraga.settings import Settings, load_settings

EDGE = TrustedProxies(["10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", ["203.0.113.9"], "127.0.0.1"),  # loopback is not trusted unless configured
        ("198.51.100.4", ["203.0.113.9"], "198.51.100.4"),  # an untrusted peer's header is ignored
        ("10.0.0.5", ["203.0.113.9"], "203.0.113.9"),
        ("10.0.0.5", ["1.1.1.1, 203.0.113.9"], "203.0.113.9"),  # the spoofed left part is never read
        ("10.0.0.5", ["1.1.1.1, 203.0.113.9, 10.2.3.4"], "203.0.113.9"),  # trusted hops are skipped
        ("10.0.0.5", ["1.1.1.1", "203.0.113.9"], "203.0.113.9"),  # several header lines form one chain
        ("10.0.0.5", ["10.9.9.9, 10.2.3.4"], "10.9.9.9"),  # every hop trusted: the farthest one
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["1.1.1.1, not-an-ip"], "10.0.0.5"),  # garbage stops the walk at the trusted peer
        ("10.0.0.5", ["203.0.113.9:4711"], "203.0.113.9"),
        ("::1", ["[2001:db8::7]:443"], "2001:db8::7"),
        (None, ["203.0.113.9"], UNKNOWN),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    peer: str | None, forwarded: list[str], expected: str
) -> None:
    assert EDGE.client_address(peer, forwarded) == expected


def test_nothing_is_trusted_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    trusted = TrustedProxies(Settings(data_dir=tmp_path).trusted_proxies)
    assert trusted.client_address("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"


def test_the_setting_takes_a_comma_separated_list(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HIRAGA_TRUSTED_PROXIES", "127.0.0.1, 192.0.2.0/24")
    assert load_settings(data_dir=tmp_path).trusted_proxies == ["127.0.0.1/32", "192.0.2.0/24"]


def test_a_bad_entry_is_a_clear_configuration_error(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HIRAGA_TRUSTED_PROXIES", "127.0.0.1,proxy.example")
    with pytest.raises(ConfigurationError, match="HIRAGA_TRUSTED_PROXIES"):
        load_settings(data_dir=tmp_path)
