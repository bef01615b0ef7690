"""docs/api-reference.md lists every /api/v1 operation and its request body, and is up to date."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hiraga.web.api.reference import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "api-reference.md"


def test_the_reference_is_generated_from_the_running_code(app: FastAPI) -> None:
    expected = render(app.openapi())
    assert DOC.read_text(encoding="utf-8") == expected, "python -m hiraga.web.api.reference > docs/api-reference.md"


def test_every_operation_with_a_body_shows_its_fields(app: FastAPI) -> None:
    openapi = app.openapi()
    text = render(openapi)
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            heading = f"## {method.upper()} `{path}`"
            assert heading in text
            section = text.split(heading, 1)[1].split("\n## ", 1)[0]
            assert ("本文:" in section) == ("requestBody" in operation), heading
