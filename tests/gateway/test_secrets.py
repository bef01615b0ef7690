from __future__ import annotations

import pytest

from hiraga.errors import ConfigurationError
from hiraga.gateway.secrets import SecretBox


def test_round_trip_is_randomised_and_bound_to_the_platform_secret():
    box = SecretBox("platform-secret-" + "a" * 32)
    one, two = box.encrypt("sk-live-12345"), box.encrypt("sk-live-12345")
    assert one != two and "sk-live" not in one
    assert box.decrypt(one) == "sk-live-12345"
    with pytest.raises(ConfigurationError):
        SecretBox("another-secret-" + "b" * 32).decrypt(one)
    with pytest.raises(ConfigurationError):
        box.decrypt(one[:-4] + "AAAA")
