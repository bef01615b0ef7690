"""The URL ``hiraga serve`` prints: the host and port it really serves, unless HIRAGA_BASE_URL says
where a proxy in front of it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiraga.cli.serve import public_url
from hiraga.settings import Settings


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://[::1]:9000"),
        ("fe80::1", 81, "http://[fe80::1]:81"),
        ("portal.city.example.jp", 8080, "http://portal.city.example.jp:8080"),
    ],
)
def test_the_served_host_and_port_when_no_base_url_is_set(
    host: str, port: int, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HIRAGA_BASE_URL", raising=False)
    monkeypatch.delenv("HIRAGA_CONFIG", raising=False)
    assert public_url(Settings(data_dir=tmp_path), host, port) == expected


def test_an_operator_set_base_url_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIRAGA_BASE_URL", "https://ai.city.example.jp/")
    assert public_url(Settings(data_dir=tmp_path), "127.0.0.1", 8123) == "https://ai.city.example.jp"
