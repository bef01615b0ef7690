"""Real ``hiraga serve`` processes for tests: start on a free port, wait for /readyz, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

HIRAGA = str(Path(sys.executable).parent / "hiraga")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"hiraga serve exited early:\n{self.output()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"hiraga serve was not ready in time:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing — what a crash looks like."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_serve(data_dir: Path, env: dict[str, str], log: Path, *, workers: int = 1) -> ServeProcess:
    port = free_port()
    # the suite's own HIRAGA_* settings stay out, except its cheap argon2 profile (tests/conftest.py)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HIRAGA_") or k == "HIRAGA_PASSWORD_HASHING"}
    full_env |= {"PYTHONUNBUFFERED": "1", "HIRAGA_BASE_URL": f"http://127.0.0.1:{port}", **env}
    serve = [HIRAGA, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*serve, "--workers", str(workers)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    return ServeProcess(process=process, url=f"http://127.0.0.1:{port}", log=log)


def cli(env: dict[str, str], tmp_path: Path, *words: str, stdin: str = "") -> str:
    """``hiraga WORDS`` with exactly ``env`` (and PATH); its output; it must succeed."""
    result = subprocess.run(
        [HIRAGA, *words, "--data-dir", str(tmp_path / "cli")],
        input=stdin,
        text=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HIRAGA_PASSWORD_HASHING": "test", **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


Write = Callable[[httpx.Client, int, int], "str | None"]


def create_organisation(client: httpx.Client, worker: int, n: int) -> str | None:
    response = client.post("/api/v1/organisations", json={"name": f"組織-{worker}-{n}"})
    return str(response.json()["name"]) if response.status_code == 201 else None


def write_until_killed(
    process: ServeProcess, headers: dict[str, str], writes: Sequence[Write] = (create_organisation,) * 4
) -> set[str]:
    """One writer thread per entry of ``writes``, each calling it on ``process`` until the process
    is SIGKILLed (after 20 acknowledged writes); what was acknowledged (201 received)."""
    acknowledged: set[str] = set()
    lock = threading.Lock()
    enough = threading.Event()

    def writer(worker: int, write: Write) -> None:
        with httpx.Client(base_url=process.url, headers=headers, timeout=10) as client:
            for n in range(10_000):
                try:
                    done = write(client, worker, n)
                except httpx.TransportError:
                    return
                if done is not None:
                    with lock:
                        acknowledged.add(done)
                        if len(acknowledged) >= 20:
                            enough.set()

    threads = [threading.Thread(target=writer, args=(w, write)) for w, write in enumerate(writes)]
    for thread in threads:
        thread.start()
    enough.wait(timeout=60)
    process.kill()
    for thread in threads:
        thread.join(timeout=30)
    with lock:
        return set(acknowledged)
