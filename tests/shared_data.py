"""Where the project's shared Japanese data sets are (../shared/data beside the checkout).

A test that needs them skips on a machine without them, but fails when the suite runs with
``HIRAGA_TEST_REQUIRE_SHARED_DATA=1`` (CI sets it), so coverage never disappears silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_BESIDE_CHECKOUT = Path(__file__).resolve().parents[2] / "shared" / "data"
_WORKSPACE = Path("/work/shared/data")
SHARED_DATA = (
    Path(os.environ["HIRAGA_SHARED_DATA"])
    if os.environ.get("HIRAGA_SHARED_DATA")
    else next((p for p in (_BESIDE_CHECKOUT, _WORKSPACE) if p.is_dir()), _BESIDE_CHECKOUT)
)


def shared_data(*parts: str) -> Path:
    """The path of a shared data file or folder; skip (or, when required, fail) if it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if path.exists():
        return path
    message = f"shared data {path} is missing (set HIRAGA_SHARED_DATA to the shared/data folder)"
    if os.environ.get("HIRAGA_TEST_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
