"""``hiraga serve --workers 2``: a listening socket per worker, so a burst of keep-alive connections that
arrives while the workers are busy is spread over both (with one shared socket, the first worker to wake
took them all: 64/0 and 63/1 of 64 in the scale-out benchmark, 48/0 here); a killed worker is replaced;
SIGHUP replaces every worker; SIGTERM stops the pool and every worker; workers of a killed pool stop
themselves; a port another program holds is refused before anything starts."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import psutil
import pytest

from hiraga.cli import worker_pool
from hiraga.cli.worker_pool import WorkerPool

from .processes import HIRAGA, ServeProcess, free_port, start_serve

BURST = 48  # connections opened at once; each worker must hold at least MIN_SHARE of them
MIN_SHARE = 8  # with the kernel's hash, fewer than 8 of 48 on one of two sockets has p ≈ 1e-6


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def serving_workers(server: ServeProcess, port: int) -> list[psutil.Process]:
    """The pool's children that listen on the port (a worker still starting, and multiprocessing's
    resource tracker, are not counted)."""
    listening = []
    for child in psutil.Process(server.process.pid).children():
        try:
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in child.net_connections("tcp")):
                listening.append(child)
        except psutil.NoSuchProcess:
            continue
    return listening


def accept_queue(worker: psutil.Process, port: int) -> int:
    """Connections waiting for the worker to accept them on its listening socket(s) on the port
    (/proc/net/tcp's rx_queue of a listening socket is its accept queue)."""
    inodes = {
        os.readlink(f"/proc/{worker.pid}/fd/{c.fd}").removeprefix("socket:[").removesuffix("]")
        for c in worker.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    rows = (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
    return sum(int(row[4].split(":")[1], 16) for row in rows if row[9] in inodes)


def open_burst(port: int, first: psutil.Process, second: psutil.Process) -> list[socket.socket]:
    """BURST connections arriving while both workers are busy (stopped with SIGSTOP, so the kernel
    queues them); the first worker then runs until it has accepted all it can, the second after it;
    then one keep-alive request on each connection, answered."""
    for worker in (first, second):
        worker.suspend()
    try:
        connections = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(BURST)]
        first.resume()
        wait_until(lambda: accept_queue(first, port) == 0, "the first worker to accept what it can")
    finally:
        for worker in (first, second):
            worker.resume()
    for sock in connections:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for sock in connections:
        assert sock.recv(4096).startswith(b"HTTP/1.1 200"), "every connection is served"
    return connections


def established_per_worker(workers: list[psutil.Process], port: int) -> dict[int, int]:
    return {
        worker.pid: sum(
            1 for c in worker.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
        )
        for worker in workers
    }


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[tuple[ServeProcess, int]]:
    server = start_serve(tmp_path / "data", {}, tmp_path / "serve.log", workers=2)
    port = int(server.url.rsplit(":", 1)[1])
    try:
        server.wait_ready()
        wait_until(lambda: len(serving_workers(server, port)) == 2, "two listening workers")
        yield server, port
    finally:
        server.stop()


@pytest.mark.slow
def test_burst_spread_killed_worker_replaced_sighup_replaces_all_sigterm_stops_all(
    pool: tuple[ServeProcess, int],
) -> None:
    server, port = pool
    workers = serving_workers(server, port)
    connections = open_burst(port, *workers)
    try:
        shares = established_per_worker(workers, port)
    finally:
        for sock in connections:
            sock.close()
    assert sum(shares.values()) == BURST, shares
    assert min(shares.values()) >= MIN_SHARE, f"connections per worker: {shares}"

    victim = workers[0]
    victim.kill()
    replaced = wait_until(
        lambda: len(now := serving_workers(server, port)) == 2 and victim.pid not in {w.pid for w in now} and now,
        "a new worker in place of the killed one",
    )
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200

    before = {w.pid for w in replaced}
    server.process.send_signal(signal.SIGHUP)  # every worker replaced in turn, the new one serving first
    replaced = wait_until(
        lambda: len(now := serving_workers(server, port)) == 2 and not before & {w.pid for w in now} and now,
        "two new workers after SIGHUP",
    )
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    assert server.process.poll() is None, "the pool itself keeps running"

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0, server.output()
    _gone, alive = psutil.wait_procs(replaced, timeout=10)
    assert not alive, f"workers left running after SIGTERM: {alive}"


@pytest.mark.slow
def test_workers_of_a_killed_pool_stop_and_free_the_port(pool: tuple[ServeProcess, int]) -> None:
    server, port = pool
    workers = serving_workers(server, port)
    server.kill()  # SIGKILL: the pool cannot ask anyone to stop
    _gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"orphaned workers still running: {alive}"
    worker_pool.ensure_port_free("127.0.0.1", port)  # nobody listens any more


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = subprocess.run(
            [HIRAGA, "serve", "--port", str(port), "--workers", "2", "--data-dir", str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "[port_in_use]" in result.stderr and f"ポート {port} は既に使われています" in result.stderr
    assert not (tmp_path / "data" / "hiraga.db").exists(), "nothing was migrated"


class FakeProcess:
    def __init__(self, alive: bool, exitcode: int | None = None) -> None:
        self.alive, self.exitcode, self.pid = alive, exitcode, 4242

    def is_alive(self) -> bool:
        return self.alive


class SilentPipe:
    def poll(self) -> bool:
        return False

    def close(self) -> None:
        pass


def pool_with(monkeypatch: pytest.MonkeyPatch, *workers: tuple[bool, bool]) -> tuple[WorkerPool, list[int]]:
    """A pool whose workers are (alive, served) fakes; starting a worker records it instead of spawning."""
    pool = WorkerPool({"app": "x"}, len(workers))
    pool.workers = [
        worker_pool._Worker(FakeProcess(alive, None if alive else -9), SilentPipe(), served)  # type: ignore[arg-type]
        for alive, served in workers
    ]
    started: list[int] = []

    def start() -> worker_pool._Worker:
        started.append(1)
        return worker_pool._Worker(FakeProcess(True), SilentPipe())  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "_start", start)
    return pool, started


def test_a_worker_that_served_and_died_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    pool, started = pool_with(monkeypatch, (True, True), (False, True))
    pool.replace_dead_workers()
    assert started == [1] and not pool.failed and not pool.stopping.is_set()
    assert pool.workers[1].process.is_alive()


def test_a_worker_that_died_before_serving_stops_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    pool, started = pool_with(monkeypatch, (False, False), (True, True))
    pool.replace_dead_workers()
    assert started == [] and pool.failed and pool.stopping.is_set()


def test_a_worker_has_served_once_it_wrote_to_its_pipe_and_not_when_it_ended_silently() -> None:
    reports, report = multiprocessing.Pipe(duplex=False)
    worker = worker_pool._Worker(cast(Any, FakeProcess(True)), reports)
    assert not worker.has_served()
    report.send_bytes(worker_pool.SERVING)
    assert worker.has_served() and worker.has_served()  # read once, remembered
    silent_reports, silent = multiprocessing.Pipe(duplex=False)
    silent.close()  # the worker died before it served
    assert not worker_pool._Worker(cast(Any, FakeProcess(False)), silent_reports).has_served()
