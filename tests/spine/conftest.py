import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

from gateway_world import settings, stub, world  # noqa: F401  (fixtures)
