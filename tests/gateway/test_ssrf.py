from __future__ import annotations

import pytest

from hiraga.errors import InvalidInput
from hiraga.gateway.ssrf import check_upstream_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://localhost/v1",
        "http://10.1.2.3/v1",
        "http://192.168.0.10/v1",
        "http://172.16.5.5/v1",
        "http://169.254.169.254/latest",
        "http://[::1]/v1",
        "http://0.0.0.0/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://100.64.0.1/v1",
    ],
)
def test_internal_addresses_are_refused(url: str):
    with pytest.raises(InvalidInput) as refused:
        check_upstream_url(url, [])
    assert refused.value.detail["field"] == "base_url"
    assert "HIRAGA_ALLOWED_UPSTREAM_HOSTS" in refused.value.message


@pytest.mark.parametrize(
    "url", ["ftp://example.com/v1", "http:///v1", "https://user:pw@api.example.com/v1", "file:///etc/passwd"]
)
def test_odd_urls_are_refused(url: str):
    with pytest.raises(InvalidInput):
        check_upstream_url(url, [])


def test_allow_list_and_public_addresses():
    check_upstream_url("http://10.1.2.3:8000/v1", ["10.1.2.3"])
    check_upstream_url("http://localhost:8000/v1", ["localhost:8000"])
    check_upstream_url("https://8.8.8.8/v1", [])  # public literal address: allowed, nothing resolved
    with pytest.raises(InvalidInput):
        check_upstream_url("http://localhost:9000/v1", ["localhost:8000"])
