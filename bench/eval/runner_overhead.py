"""Evaluation runner: overhead, memory and resume, against a stub upstream, in one run.

    .venv/bin/python bench/eval/runner_overhead.py [--items 2000] [--concurrency 8] [--big 100000]
    (``--big 0 --resume-items 0``: the overhead only)

1. Overhead: the same ``--items`` chat calls (the prompts of a private set) sent straight to hiraga's
   /v1 API by an HTTP client at ``--concurrency`` (the peer), then run by ``hiraga eval run`` at the
   same concurrency (every call through the gateway, each item stored and scored). Reports items/s
   of both, their ratio, and the runner's CPU-ms per item, with and without the CLI's start-up (a
   ``hiraga eval sets list`` process: interpreter, imports, database check), which the peer's
   already running server does not pay.
2. Memory: a ``--big``-item JSONL set uploaded by ``hiraga eval sets upload`` and run (``--big-run``
   items of it); peak resident memory of each process against a process that only starts the CLI.
3. Resume: ``hiraga eval run`` on the set is killed with SIGKILL mid-run, then ``hiraga eval resume``;
   the stub counts calls per prompt: no item finished before the kill may be called twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from aiohttp import web

HIRAGA = str(Path(sys.executable).with_name("hiraga"))
REPLY = {"role": "assistant", "content": "答えは東京都です。"}


class Stub:
    """An OpenAI-compatible upstream that counts the calls per prompt (its own thread and loop)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.port = _free_port()

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls[body["messages"][-1]["content"]] += 1
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "stub"),
                "choices": [{"index": 0, "message": REPLY, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28},
            }
        )

    def start(self) -> Stub:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
        return self


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *words: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([HIRAGA, *words], env=env, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"hiraga {' '.join(words)} failed: {done.stderr}")
    return done


def timed_cli(env: dict[str, str], *words: str) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS (KiB) of one CLI process, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen([HIRAGA, *words], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise SystemExit(f"hiraga {' '.join(words)} exited {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out


def write_set(path: Path, count: int, tag: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            line = {"id": f"{tag}{i}", "prompt": f"{tag} 質問 {i}: 首都はどこですか。", "reference": "東京都"}
            handle.write(json.dumps({**line, "scorer": "contains"}, ensure_ascii=False) + "\n")


def direct_calls(base: str, key: str, prompts: list[str], concurrency: int) -> float:
    """The peer: the same calls straight to /v1 at the same concurrency; seconds."""

    async def go() -> float:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for prompt in prompts:
            queue.put_nowait(prompt)
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {key}"}, limits=limits) as c:

            async def worker() -> None:
                while not queue.empty():
                    prompt = queue.get_nowait()
                    body = {"model": "stub", "messages": [{"role": "user", "content": prompt}], "max_tokens": 512}
                    response = await c.post("/v1/chat/completions", json=body, timeout=60)
                    response.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    return asyncio.run(go())


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [HIRAGA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("hiraga serve did not start")


def overhead(env: dict[str, str], data: Path, stub: Stub, items: int, concurrency: int) -> dict[str, Any]:
    set_file = data.parent / "overhead.jsonl"
    write_set(set_file, items, "o")
    cli(env, "eval", "sets", "upload", str(set_file), "--team", "評価課", "--name", "overhead", "--classification", "1")
    key = cli(env, "admin", "create-key", "bench@example.jp").stdout.strip().split()[-1]
    port = _free_port()
    server = serve(env, port)
    try:
        prompts = [json.loads(line)["prompt"] for line in set_file.read_text(encoding="utf-8").splitlines()]
        direct_calls(f"http://127.0.0.1:{port}", key, prompts[:50], concurrency)  # warm-up
        direct = direct_calls(f"http://127.0.0.1:{port}", key, prompts, concurrency)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    startup, startup_cpu, _, _ = timed_cli(env, "eval", "sets", "list")  # process start, imports, database
    wall, cpu, rss, out = timed_cli(
        env, "eval", "run", "--suite", "set:1", "--models", "stub", "--concurrency", str(concurrency)
    )
    return {
        "items": items,
        "concurrency": concurrency,
        "direct_v1_items_per_s": round(items / direct, 1),
        "runner_items_per_s": round(items / wall, 1),
        "runner_to_direct_ratio": round(direct / wall, 3),
        "cli_startup_s": round(startup, 2),
        "runner_without_startup_items_per_s": round(items / (wall - startup), 1),
        "runner_without_startup_to_direct_ratio": round(direct / (wall - startup), 3),
        "runner_cpu_ms_per_item": round(cpu * 1000 / items, 2),
        "runner_cpu_ms_per_item_without_startup": round((cpu - startup_cpu) * 1000 / items, 2),
        "runner_peak_rss_mib": round(rss / 1024, 1),
        "runner_table": out.strip().splitlines()[-1],
    }


def memory(env: dict[str, str], data: Path, big: int, big_run: int) -> dict[str, Any]:
    set_file = data.parent / "big.jsonl"
    write_set(set_file, big, "b")
    _, _, baseline, _ = timed_cli(env, "eval", "sets", "list")
    upload = timed_cli(
        env, "eval", "sets", "upload", str(set_file), "--team", "評価課", "--name", "big", "--classification", "1"
    )
    run = timed_cli(
        env, "eval", "run", "--suite", "set:2", "--models", "stub", "--concurrency", "8", "--limit", str(big_run)
    )
    return {
        "set_items": big,
        "set_file_mib": round(set_file.stat().st_size / 2**20, 1),
        "cli_baseline_rss_mib": round(baseline / 1024, 1),
        "upload_seconds": round(upload[0], 1),
        "upload_peak_rss_mib": round(upload[2] / 1024, 1),
        "upload_growth_mib": round((upload[2] - baseline) / 1024, 1),
        "run_items": big_run,
        "run_seconds": round(run[0], 1),
        "run_peak_rss_mib": round(run[2] / 1024, 1),
        "run_growth_mib": round((run[2] - baseline) / 1024, 1),
    }


def resume(env: dict[str, str], data: Path, stub: Stub, items: int) -> dict[str, Any]:
    set_file = data.parent / "resume.jsonl"
    write_set(set_file, items, "r")
    cli(env, "eval", "sets", "upload", str(set_file), "--team", "評価課", "--name", "resume", "--classification", "1")
    set_id = 3
    stub.calls.clear()
    engine = sa.create_engine(f"sqlite:///{data / 'hiraga.db'}")
    process = subprocess.Popen(
        [HIRAGA, "eval", "run", "--suite", f"set:{set_id}", "--models", "stub", "--concurrency", "8"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    done_before = 0
    while done_before < items // 3:
        time.sleep(0.05)
        with engine.connect() as c:
            done_before = int(
                c.scalar(
                    sa.text(
                        "SELECT count(*) FROM eval_results r JOIN eval_runs u ON u.id = r.run_id WHERE u.set_id = :s"
                    ),
                    {"s": set_id},
                )
                or 0
            )
    process.send_signal(signal.SIGKILL)
    process.wait()
    with engine.connect() as c:
        run_id = int(c.scalar(sa.text("SELECT id FROM eval_runs WHERE set_id = :s"), {"s": set_id}))
        finished = {
            row[0] for row in c.execute(sa.text("SELECT prompt FROM eval_results WHERE run_id = :r"), {"r": run_id})
        }
        c.execute(sa.text("UPDATE eval_runs SET heartbeat_at = '2000-01-01 00:00:00' WHERE id = :r"), {"r": run_id})
        c.commit()
    calls_at_kill = sum(stub.calls.values())
    out = cli(env, "eval", "resume", str(run_id), check=False).stdout
    repeated = sum(1 for prompt in finished if stub.calls[prompt] > 1)
    with engine.connect() as c:
        stored = int(c.scalar(sa.text("SELECT count(*) FROM eval_results WHERE run_id = :r"), {"r": run_id}) or 0)
    return {
        "items": items,
        "finished_before_kill": len(finished),
        "calls_before_kill": calls_at_kill,
        "calls_total": sum(stub.calls.values()),
        "finished_items_called_twice": repeated,
        "items_stored_after_resume": stored,
        "resume_table": out.strip().splitlines()[-1] if out.strip() else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--big-run", type=int, default=20_000)
    parser.add_argument("--resume-items", type=int, default=2000)
    args = parser.parse_args()
    stub = Stub().start()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {
            **os.environ,
            "HIRAGA_DATA_DIR": str(data),
            "HIRAGA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",
            "HIRAGA_PASSWORD_HASHING": "test",
        }
        for key in ("HIRAGA_DATABASE_URL", "HIRAGA_REDIS_URL", "HIRAGA_CONFIG"):
            env.pop(key, None)
        cli(env, "db", "upgrade")
        cli(env, "admin", "create-org", "ベンチ市")
        cli(env, "admin", "create-team", "評価課", "--org", "ベンチ市")
        subprocess.run(
            [HIRAGA, "admin", "create-user", "bench@example.jp", "--password-stdin", "--system-admin"],
            env=env, input="Sakura-Kensa-2026-x\n", text=True, check=True, capture_output=True,
        )  # fmt: skip
        stub_url = f"http://127.0.0.1:{stub.port}/v1"
        cli(
            env,
            "models",
            "add",
            "stub",
            "--base-url",
            stub_url,
            "--upstream-model",
            "stub",
            "--internal",
            "--all-teams",
        )
        report = {"overhead": overhead(env, data, stub, args.items, args.concurrency)}
        if args.big:  # 0: overhead only
            report["memory"] = memory(env, data, args.big, args.big_run)
        if args.resume_items:
            report["resume"] = resume(env, data, stub, args.resume_items)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
