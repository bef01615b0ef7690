"""Where the test PostgreSQL server is (shared by conftest.py and the tests that start processes)."""

from __future__ import annotations

import os

POSTGRES_ADMIN_URL = os.environ.get("HIRAGA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
