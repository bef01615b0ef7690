from __future__ import annotations

import pytest

from hiraga.settings import Settings
from hiraga.store.database import Database

from .world import World, build_world


@pytest.fixture
def world(database: Database, settings: Settings) -> World:
    return build_world(database, settings.secret())
