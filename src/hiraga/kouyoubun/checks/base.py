"""The typed rule protocol: a rule looks at a ``Document`` and yields findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hiraga.kouyoubun.document import Document
from hiraga.kouyoubun.findings import Finding


class Rule(Protocol):
    family: str  # the rule class ("prh", "kana", "conjunction", ...): the prefix of its findings' ids
    name: str  # Japanese, shown to users

    def check(self, document: Document) -> Iterable[Finding]: ...
