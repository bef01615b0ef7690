from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class CliTarget:
    """Where CLI commands write: a SQLite file chosen by ``--data-dir``, or PostgreSQL chosen by
    ``HIRAGA_DATABASE_URL`` (the data dir then only holds the secret key)."""

    data_dir: Path
    env: dict[str, str | None]
    database_url: str

    def args(self, *words: str) -> list[str]:
        return [*words, "--data-dir", str(self.data_dir)]


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> CliTarget:
    data_dir = tmp_path / "data"
    data_dir.mkdir()  # administrators' commands refuse a SQLite data dir that does not exist (a typo)
    base: dict[str, str | None] = {"HIRAGA_DATA_DIR": None, "HIRAGA_CONFIG": None, "HIRAGA_SECRET_KEY": None}
    if database_url.startswith("sqlite"):
        return CliTarget(data_dir, base | {"HIRAGA_DATABASE_URL": None}, f"sqlite:///{data_dir / 'hiraga.db'}")
    return CliTarget(data_dir, base | {"HIRAGA_DATABASE_URL": database_url}, database_url)
