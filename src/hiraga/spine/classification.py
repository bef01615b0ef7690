"""機密性 (classification) of a model call: the highest level of everything the call touches.

The level the user chose (or the platform default when they chose none) is raised by each
knowledge base, file and app the request draws on. Every feature that builds a ModelCall computes
its level here, so no path can send data of a higher level to a model with a lower clearance: the
router (``hiraga.spine.route``) only picks endpoints whose clearance covers the result.
"""

from __future__ import annotations

from hiraga.errors import InvalidInput
from hiraga.spine.call import Classification

DEFAULT_CLASSIFICATION_KEY = "classification.default"
LABELS = {Classification.LEVEL1: "機密性1", Classification.LEVEL2: "機密性2", Classification.LEVEL3: "機密性3"}


def as_classification(level: int | str, field: str = "classification") -> Classification:
    """A level from user input; 400 ``invalid_classification`` naming ``field`` when it is not 1, 2 or 3."""
    try:
        return Classification(int(level))
    except (TypeError, ValueError):
        raise InvalidInput(
            "機密性には 1・2・3 のいずれかを指定してください。",
            code="invalid_classification",
            detail={"field": field},
        ) from None


def effective_classification(*levels: int | None) -> Classification:
    """The highest of ``levels`` (None entries are ignored); 機密性1 when none is given.

    e.g. ``effective_classification(chosen, kb.classification, app.classification)``.
    """
    found = [Classification(int(level)) for level in levels if level is not None]
    return max(found) if found else Classification.LEVEL1
