"""Outgoing-URL guard for user-registered upstreams: no loopback, link-local, private or otherwise
non-public address unless the administrator allow-listed the host (``HIRAGA_ALLOWED_UPSTREAM_HOSTS``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from hiraga.errors import InvalidInput

ALLOWED_SCHEMES = frozenset({"http", "https"})


def _refuse(message: str, url: str) -> InvalidInput:
    return InvalidInput(message, code="upstream_url_refused", detail={"field": "base_url", "url": url})


def host_of(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise _refuse("接続先 URL は http:// または https:// で始まるホスト付きの URL にしてください。", url)
    if parts.username or parts.password:
        raise _refuse("接続先 URL に認証情報を含めないでください（API キー欄を使ってください）。", url)
    try:
        port = parts.port
    except ValueError as exc:
        raise _refuse("接続先 URL のポート番号が正しくありません。", url) from exc
    return parts.hostname.lower(), port


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []  # unresolvable now: the call itself will fail; nothing private is reachable by it
    return sorted({str(info[4][0]) for info in infos})


def check_upstream_url(url: str, allowed_hosts: Iterable[str]) -> None:
    """Raise InvalidInput (field ``base_url``) unless ``url`` may be called."""
    host, port = host_of(url)
    allowed = {h.strip().lower() for h in allowed_hosts}
    if host in allowed or (port is not None and f"{host}:{port}" in allowed):
        return
    for address in resolve(host):
        if not is_public(address):
            raise _refuse(
                f"接続先 {host}（{address}）は内部向けのアドレスのため接続できません。"
                "社内のモデルサーバーを使う場合は、管理者が HIRAGA_ALLOWED_UPSTREAM_HOSTS に"
                "ホスト名を追加してください。",
                url,
            )
