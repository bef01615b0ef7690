"""Which address a request came from — the one rule that login throttling and the audit log use.

The direct peer of the TCP connection is the client, unless it is one of the operator's trusted
proxies (``HIRAGA_TRUSTED_PROXIES``, addresses or CIDR blocks; none by default). Then the
``X-Forwarded-For`` chain is walked from the right (the hop the trusted proxy itself appended)
leftwards, skipping hops that are trusted proxies too; the first hop that is not is the client.
Everything to the left of it was written by the client and is never believed. A hop that is not an
IP address stops the walk at the last trusted hop, so garbage cannot pick an address.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

UNKNOWN = "unknown"

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def parse_network(value: str) -> Network:
    """``10.0.0.0/8``, ``192.0.2.7`` or ``::1``; raises ValueError for anything else."""
    return ip_network(value.strip(), strict=False)


def parse_address(value: str) -> Address | None:
    """An IP address from one forwarded hop (``[v6]:port`` and ``v4:port`` allowed), or None."""
    text = value.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(parse_network(n) for n in networks)

    def trusts(self, address: str) -> bool:
        parsed = parse_address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client_address(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client's address given the direct ``peer`` and every ``X-Forwarded-For`` value."""
        if not peer:
            return UNKNOWN
        address = peer
        if not self.trusts(address):
            return address
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            parsed = parse_address(hop)
            if parsed is None:
                return address
            address = str(parsed)
            if not self.trusts(address):
                return address
        return address
