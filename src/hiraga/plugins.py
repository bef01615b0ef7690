"""The one place where extension points are registered and discovered.

Each extension point is an entry-point group; built-ins are declared in hiraga's own
pyproject exactly like third-party plugins, so the core has no special case for them.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUPS = {
    "providers": "hiraga.providers",  # model providers (hiraga.gateway.providers.base.ModelProvider)
    "parsers": "hiraga.parsers",  # document parsers
    "apps": "hiraga.apps",  # task apps
    "eval_suites": "hiraga.eval_suites",  # evaluation suites
    "pii_detectors": "hiraga.pii_detectors",  # PII detectors
}


@cache
def discover(kind: str) -> dict[str, Any]:
    """name → loaded object for every installed plugin of a kind."""
    group = GROUPS[kind]
    return {ep.name: ep.load() for ep in entry_points(group=group)}
