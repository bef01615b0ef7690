"""What the first request walk of a fresh app costs: FastAPI's own way of including the feature
routers into each app (the peer) against hiraga's factory, which shares one assembled route tree per
process (``hiraga.web.site``). Both are measured in the same run, each on fresh apps; a request to a
path no route has walks every router, which makes FastAPI build each included route's handling.

    .venv/bin/python bench/web/app_routes.py --apps 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.identity.passwords import use_hashing_profile
from hiraga.settings import load_settings
from hiraga.store import migrate
from hiraga.web.deps import csrf_guard
from hiraga.web.site import feature_routers


def per_app_include() -> FastAPI:
    app = FastAPI(dependencies=[Depends(csrf_guard)])
    for router in feature_routers():
        app.include_router(router)
    return app


def first_walk_ms(make_app: Callable[[], FastAPI]) -> float:
    start = time.perf_counter()
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        assert client.get("/no-such-page-anywhere").status_code == 404
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, default=5, help="fresh apps per way (after one warm-up each)")
    apps = parser.parse_args().apps
    use_hashing_profile("test")
    data = Path(tempfile.mkdtemp())
    database_url = f"sqlite:///{data}/bench.db"
    migrate.upgrade(database_url)
    settings = load_settings(data_dir=data, database_url=database_url, secret_key="bench-" + "k" * 40)
    ways: dict[str, Callable[[], FastAPI]] = {
        "per-app include (FastAPI's way)": per_app_include,
        "hiraga create_app (shared tree)": lambda: create_app(settings),
    }
    results = {}
    for name, make_app in ways.items():
        first_walk_ms(make_app)  # imports and, for hiraga, the one assembly per process
        results[name] = [first_walk_ms(make_app) for _ in range(apps)]
    for name, times in results.items():
        print(f"{name:34s} median {statistics.median(times):8.1f} ms per app  ({apps} apps)")
    peer, ours = (statistics.median(t) for t in results.values())
    print(f"ratio (peer ÷ hiraga): {peer / ours:.1f}×")


if __name__ == "__main__":
    main()
