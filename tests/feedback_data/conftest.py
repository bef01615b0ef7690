from __future__ import annotations

import pytest

from hiraga.store.database import Database

from .support import People, make_people


@pytest.fixture
def people(database: Database) -> People:
    return make_people(database)
