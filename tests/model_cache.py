"""Where the test suite keeps the assembled embedded model (491 MB), so it is built once per machine.

``HIRAGA_TEST_MODEL_CACHE`` overrides it; ``scripts/test`` assembles it before the tests as its own phase.
"""

from __future__ import annotations

import os
from pathlib import Path

MODEL_CACHE_DIR = Path(os.environ.get("HIRAGA_TEST_MODEL_CACHE") or Path.home() / ".cache" / "hiraga" / "test-models")
