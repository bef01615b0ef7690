from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hiraga.errors import ConfigurationError
from hiraga.settings import SECRET_KEY_FILE, load_settings, read_settings

STRONG = "Zq3v-8KpW1mXr7Tn2Yb6Hs9Lc4Jd0Fg5Ae_Uo"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HIRAGA_DATA_DIR",
        "HIRAGA_DATABASE_URL",
        "HIRAGA_SECRET_KEY",
        "HIRAGA_CONFIG",
        "HIRAGA_ENVIRONMENT",
        "HIRAGA_BASE_URL",
        "HIRAGA_REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_environment_variables_with_the_prefix_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIRAGA_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("HIRAGA_DATABASE_URL", "postgresql://db.example/hiraga")
    monkeypatch.setenv("HIRAGA_BASE_URL", "https://ai.example.go.jp")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///ignored.db")  # no prefix, no effect
    settings = load_settings()
    assert settings.data_dir == tmp_path / "d" and settings.data_dir.is_dir()
    assert settings.effective_database_url == "postgresql://db.example/hiraga"
    assert not settings.is_sqlite
    assert settings.secure_cookies


def test_embedded_default_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'hiraga.db'}"
    assert settings.redis_url is None and not settings.secure_cookies


def test_toml_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "hiraga.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "from-toml"}"\nbase_url = "https://toml.example"\npassword_min_length = 16\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("HIRAGA_CONFIG", str(config))
    monkeypatch.setenv("HIRAGA_BASE_URL", "https://env.example")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "from-toml"
    assert settings.password_min_length == 16
    assert settings.base_url == "https://env.example"


def test_a_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIRAGA_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigurationError, match="設定ファイル"):
        load_settings(data_dir=tmp_path)


def test_a_value_that_does_not_parse_names_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIRAGA_MAX_BODY_BYTES", "十メガ")
    monkeypatch.setenv("HIRAGA_ENVIRONMENT", "staging")
    with pytest.raises(ConfigurationError) as info:
        load_settings(data_dir=tmp_path)
    assert info.value.code == "configuration_error"
    assert "HIRAGA_MAX_BODY_BYTES" in info.value.message and "十メガ" in info.value.message
    assert "HIRAGA_ENVIRONMENT" in info.value.message
    assert {p["field"] for p in info.value.detail} == {"max_body_bytes", "environment"}
    assert not (tmp_path / SECRET_KEY_FILE).exists()  # refused before anything was written


def test_generated_secret_is_private_and_reused(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path).secret()
    path = tmp_path / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and path.read_text(encoding="utf-8") == first
    assert load_settings(data_dir=tmp_path).secret() == first
    assert load_settings(data_dir=tmp_path / "other").secret() != first


@pytest.mark.parametrize("weak", ["short", "a" * 64, "abcabcabcabcabcabcabcabcabcabcabcabc"])
def test_production_refuses_a_weak_secret(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigurationError, match="HIRAGA_SECRET_KEY"):
        load_settings(data_dir=tmp_path, environment="production", secret_key=weak)


def test_production_refuses_a_missing_secret_and_writes_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="HIRAGA_SECRET_KEY"):
        load_settings(data_dir=tmp_path, environment="production")
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_production_accepts_a_strong_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HIRAGA_ENVIRONMENT", "production")
    monkeypatch.setenv("HIRAGA_SECRET_KEY", STRONG)
    assert load_settings(data_dir=tmp_path).secret() == STRONG


def test_an_empty_metrics_token_means_none_and_read_settings_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A compose file passes an unset ${HIRAGA_METRICS_TOKEN:-} as "": that must not be "the empty token"."""
    monkeypatch.setenv("HIRAGA_METRICS_TOKEN", "")
    settings = read_settings(data_dir=tmp_path / "never")
    assert settings.metrics_token is None and settings.secret_key is None
    assert not (tmp_path / "never").exists()  # what hiraga restore relies on
    monkeypatch.setenv("HIRAGA_METRICS_TOKEN", "scrape-token")
    token = read_settings(data_dir=tmp_path / "never").metrics_token
    assert token is not None and token.get_secret_value() == "scrape-token"
