"""The integers the database can hold. Numbers that come in from outside (path ids, query and
body fields) are checked against these at the edge, so that an id or a count beyond 64 bits is a
clear 404 or 400 and never reaches a database driver (which would fail with an overflow, a 500)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

DbInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""An integer a database column holds (signed 64 bits): counts, offsets, indexes."""

RowId = DbInt
"""A row's id as a caller names it; out of range it cannot name a row (the edge answers 404 in a
path, 400 in a query or body)."""
