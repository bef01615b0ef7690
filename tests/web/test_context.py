"""Money in pages reads as yen: 「0.89 円」, 「1,235 円」, not 「0.890000 円」."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hiraga.web.context import format_yen, make_templates


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.890000"), "0.89 円"),
        (Decimal("1.500000"), "1.5 円"),
        (Decimal("12.000000"), "12 円"),
        (Decimal("1234.56"), "1,235 円"),
        (Decimal("0.000400"), "0.01 円未満"),
        (0, "0 円"),
        (None, "0 円"),
    ],
)
def test_yen(value: object, shown: str) -> None:
    assert format_yen(value) == shown  # type: ignore[arg-type]
    assert make_templates().from_string("{{ v | yen }}").render(v=value) == shown
