import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "apps"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway"))

from app_world import settings, world  # noqa: F401  (fixtures)
