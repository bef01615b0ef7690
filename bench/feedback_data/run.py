"""Feedback-dataset benchmark: (1) resident-memory growth while exporting N approved items, against
a peer that reads all rows first (``.all()``) and then writes, measured in the same run; (2) the
scrubbing pass (one placeholder map per item over prompt, answer and correction) against the PII
detectors' own throughput (``scan`` over the same texts), same run.

.venv/bin/python bench/feedback_data/run.py [--items 100000] [--scrub-items 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pii"))

from documents import generate  # the PII benchmark's generated administrative documents

from hiraga.audit import keys as audit_keys
from hiraga.cli.common import CLI_OPERATOR
from hiraga.feedback_data import export
from hiraga.feedback_data.scrub import ItemTexts, default_detectors, scrub
from hiraga.identity import directory
from hiraga.pii import scan
from hiraga.settings import load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import DatasetItem, DatasetPolicy

PAGE = 4096


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class PeakRss:
    """Samples resident memory every 5 ms in a thread; ``growth`` is the peak over the start."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def item_texts(i: int) -> dict[str, Any]:
    question = f"第{i}号の照会について、〔氏名1〕様（〔電話番号1〕）への回答文を、公用文の書き方で作ってください。" * 3
    answer = (
        f"〔氏名1〕様\n\nお問い合わせいただいた第{i}号の件について、次のとおり回答します。"
        + "担当課で確認しました。" * 20
    )
    return {
        "prompt": [
            {"role": "system", "content": "あなたは自治体職員を支援します。"},
            {"role": "user", "content": question},
        ],
        "answer": answer,
        "corrected": answer.replace("確認しました", "確認いたしました") if i % 3 == 0 else "",
        "rejected": "",
        "comment": "敬語が不足" if i % 3 == 0 else "",
    }


def fill(database: Database, items: int) -> None:
    scope = AccessScope(CLI_OPERATOR)
    with database.session() as db:
        org = directory.create_organisation(db, scope, "ベンチ市")
        team = directory.create_team(db, scope, org.id, "ベンチ課")
        user = directory.create_user(db, scope, email="bench@example.jp", password=None)
        db.add(DatasetPolicy(team_id=team.id, training_use=True, max_classification=1, licence="CC-BY-4.0"))
        team_id, user_id = team.id, user.id
    now = datetime.now(UTC)
    table = DatasetItem.__table__
    with database.engine.begin() as connection:
        for start in range(0, items, 5000):
            rows = [
                {
                    "team_id": team_id, "user_id": user_id, "source": "chat", "task": "chat", "model_name": "llm-jp-4",
                    "endpoint": "default", "rejected_model": "", "classification": 1,
                    "rating": "good" if i % 2 else "bad", "content": json.dumps(item_texts(i), ensure_ascii=False),
                    "findings": "{}", "findings_total": 0, "status": "approved", "edited": False,
                    "answered_at": now, "created_at": now, "updated_at": now,
                }
                for i in range(start, min(items, start + 5000))
            ]  # fmt: skip
            connection.execute(sa.insert(table), rows)


def peer_export(database: Database, folder: Path) -> int:
    """The peer: every row read into memory first, then written (what a simple exporter does)."""
    scope = AccessScope(CLI_OPERATOR)
    written = 0
    with database.session() as db:
        everything = db.execute(export.exportable(scope, export.ExportFilter())).all()
        with (folder / "all.jsonl").open("w", encoding="utf-8") as handle:
            for item, _policy, _team in everything:
                for _name, row in export.rows_of(item):
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                    written += 1
    return written


def export_in_this_process(url: str, data_dir: Path, mode: str) -> dict[str, Any]:
    """One export (``streamed``: hiraga's; ``peer``: read everything first), memory measured from a fresh process."""
    database = Database(url)
    audit_keys.bind(database.engine, load_settings(data_dir=data_dir, database_url=url))
    out = data_dir / mode
    with PeakRss() as rss:
        began = time.perf_counter()
        if mode == "streamed":
            with database.session() as db:
                summary = export.export(db, AccessScope(CLI_OPERATOR), export.ExportFilter(), out)
            rows: Any = dict(summary.rows)
        else:
            out.mkdir()
            rows = peer_export(database, out)
        seconds = time.perf_counter() - began
    database.dispose()
    size = sum(p.stat().st_size for p in out.iterdir())
    return {"rows": rows, "bytes": size, "rss_growth_mb": round(rss.growth_mb, 1), "seconds": round(seconds, 1)}


def bench_export(items: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        database = Database(url)
        audit_keys.bind(database.engine, load_settings(data_dir=Path(tmp), database_url=url))
        fill(database, items)
        database.dispose()
        results = {}
        for mode in ("streamed", "peer"):
            command = [sys.executable, __file__, "--export-only", url, "--data-dir", tmp, "--mode", mode]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results[mode] = json.loads(done.stdout)
    return {"items": items, **results}


def bench_scrub(count: int) -> dict[str, Any]:
    documents = generate(count * 2, seed=2024, statutes=["この法律は、公布の日から施行する。"])
    items = [
        ItemTexts(prompt=[{"role": "user", "content": documents[2 * i].text}], answer=documents[2 * i + 1].text)
        for i in range(count)
    ]
    chars = sum(len(t.prompt[0]["content"]) + len(t.answer) for t in items)
    detectors = default_detectors()

    def scan_all() -> int:
        return sum(len(scan(t.prompt[0]["content"], detectors)) + len(scan(t.answer, detectors)) for t in items)

    def scrub_all() -> int:
        return sum(scrub(t, detectors).total for t in items)

    scan_all()  # warm-up: Sudachi's dictionary pages, regex caches
    times: dict[str, list[float]] = {"scan": [], "scrub": []}
    for _round in range(3):  # alternating rounds; the best of each
        for name, work in (("scan", scan_all), ("scrub", scrub_all)):
            began = time.perf_counter()
            found = work()
            times[name].append(time.perf_counter() - began)
    scan_s, scrub_s = min(times["scan"]), min(times["scrub"])
    return {
        "items": count,
        "characters": chars,
        "values_replaced": found,
        "detectors_chars_per_s": round(chars / scan_s),
        "scrub_chars_per_s": round(chars / scrub_s),
        "scrub_to_detectors": round(scan_s / scrub_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--scrub-items", type=int, default=500)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--export-only", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("streamed", "peer"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(export_in_this_process(args.export_only, args.data_dir, args.mode)))
        return
    result = {"scrub": bench_scrub(args.scrub_items), "export": bench_export(args.items)}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
