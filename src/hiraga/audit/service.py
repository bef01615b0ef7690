"""What the API, the pages and the CLI share: filters in, records/verification/export out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from hiraga.audit import export, query
from hiraga.audit.anchors import verify_anchors
from hiraga.audit.keys import AuditKeys
from hiraga.audit.protocol import VerifyResult
from hiraga.audit.verify import verify_chain
from hiraga.spine.authorize import AccessScope


def verify(engine: Engine, scope: AccessScope, keys: AuditKeys, anchor_file: Path | None = None) -> VerifyResult:
    """Verify the whole chain (auditors and system administrators: it spans every team), and the
    anchors of its head in ``anchor_file`` when there is one."""
    scope.require_auditor()
    with engine.connect() as connection:
        report = verify_chain(connection, keys)
        if report.ok and anchor_file is not None:
            report.problem = verify_anchors(connection, keys.anchor, anchor_file)[1]
    problem = report.problem
    return VerifyResult(
        ok=report.ok,
        records=report.records,
        pruned=report.pruned,
        seals=report.seals,
        last_id=report.last_id,
        tip=report.tip,
        lanes=len(report.heads),
        problem_code=problem.code if problem else None,
        problem=problem.message if problem else None,
        record_id=problem.record_id if problem else None,
        checkpoint_id=problem.checkpoint_id if problem else None,
    )


def export_lines(engine: Engine, scope: AccessScope, wanted: query.AuditFilter, fmt: export.Format) -> Iterator[str]:
    """Checks the caller and the filter now (so errors come before the first byte), then streams."""
    where = query.conditions(scope, wanted)

    def lines() -> Iterator[str]:
        with engine.connect() as connection:
            yield from export.lines(query.walk_records(connection, where), fmt)

    return lines()


def export_filename(fmt: export.Format, now: datetime) -> str:
    return f"hiraga-audit-{now:%Y%m%d-%H%M%S}.{fmt}"
