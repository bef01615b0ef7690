"""deploy/grafana/hiraga-dashboard.json graphs only metrics that hiraga really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from hiraga.identity import directory
from hiraga.identity.principal import Principal
from hiraga.spine.authorize import AccessScope
from hiraga.store.database import Database

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "hiraga-dashboard.json"
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def test_every_metric_in_the_dashboard_is_exposed(client: TestClient, database: Database) -> None:
    root = AccessScope(Principal(user_id=0, email="root@x", display_name="root", is_system_admin=True))
    with database.session() as db:  # the audit head's age is reported once there is a record
        directory.create_user(db, root, email="a@city.example.lg.jp", password=None)
    exposed = set()
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            exposed |= {name, *(name + s for s in SUFFIXES)}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for expr in expressions for m in re.findall(r"\bhiraga_[a-z_]+", expr)}
    assert len(used) >= 8
    # model-call metrics appear on the first call; they are declared by the app all the same
    assert used <= exposed, used - exposed
