"""Password hashing profiles: the standard argon2id parameters for real accounts, a cheap one for tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import extract_parameters

from hiraga.app import create_app
from hiraga.errors import ConfigurationError
from hiraga.identity import passwords
from hiraga.settings import load_settings


@pytest.fixture
def standard_profile() -> Iterator[None]:
    passwords.use_hashing_profile("standard")
    yield
    passwords.use_hashing_profile("test")


def test_standard_profile_hashes_with_rfc9106_low_memory_parameters(standard_profile: None) -> None:
    digest = passwords.hash_password("Kasumigaseki-2026!")
    parameters = extract_parameters(digest)
    assert (parameters.type.name, parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        "ID",
        3,
        65536,
        4,
    )
    assert passwords.verify_password(digest, "Kasumigaseki-2026!")
    assert not passwords.verify_password(digest, "kasumigaseki-2026!")
    assert not passwords.needs_rehash(digest)


def test_a_test_profile_hash_is_upgraded_by_the_standard_profile(standard_profile: None) -> None:
    passwords.use_hashing_profile("test")
    cheap = passwords.hash_password("Kasumigaseki-2026!")
    assert extract_parameters(cheap).memory_cost == 8
    passwords.use_hashing_profile("standard")
    assert passwords.verify_password(cheap, "Kasumigaseki-2026!")
    assert passwords.needs_rehash(cheap), "a cheap hash is re-hashed at the next login"


def test_production_refuses_the_test_profile(tmp_path: Path) -> None:
    settings = load_settings(
        environment="production", data_dir=tmp_path, password_hashing="test", secret_key=secrets.token_urlsafe(48)
    )
    with pytest.raises(ConfigurationError) as refused:
        create_app(settings)
    assert "HIRAGA_PASSWORD_HASHING" in refused.value.message
