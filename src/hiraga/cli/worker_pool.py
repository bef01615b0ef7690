"""``hiraga serve --workers N`` on Linux: N worker processes, each listening on the same port through a
socket of its own (``SO_REUSEPORT``), so that the kernel spreads new connections over them.

uvicorn's own multi-worker mode binds one socket in the parent and hands it to every worker. Whichever
worker wakes first accepts every connection waiting, so a client that opens its keep-alive connections
in a burst (a reverse proxy's pool, a gateway client) lands them all on one worker while the others sit
idle: 64/0 and 63/1 of 64 connections in the scale-out benchmark (docs/benchmarks.md). With a listening
socket per worker, the kernel hashes each new connection to one of them.

The pool starts the workers, starts a new one in place of one that dies after it served (one that dies
before it ever served stops the pool: every restart would fail the same way), replaces every worker in
turn on SIGHUP (each new one serves before the old one is asked to stop: new code without a gap), and on
SIGINT or SIGTERM asks each worker to finish its requests and waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE  # uvicorn's exit status for a server that could not start

from hiraga.errors import ConfigurationError

logger = logging.getLogger("uvicorn.error")

SHUTDOWN_GRACE_S = 30.0  # a worker still busy after SIGTERM this long is killed
STARTUP_TIMEOUT_S = 120.0  # on SIGHUP, a new worker not serving after this long is given up
SERVING = b"serving"  # what a worker writes to its pipe once it serves (a pipe: no semaphore to track)


def spreads_connections() -> bool:
    """Whether this platform balances connections over sockets sharing a port (Linux does; BSD and
    macOS accept SO_REUSEPORT but give every connection to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def ensure_port_free(host: str, port: int) -> None:
    """Refuse, with one clear line, a port some other server already listens on: workers sharing a port
    would otherwise split its connections with another program of the same user."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed socket's TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigurationError(
                f"{host} のポート {port} は既に使われています（{error.strerror}）。"
                "動いている hiraga serve を止めるか、--port で別のポートを指定してください。",
                code="port_in_use",
            ) from error


def worker_socket(host: str, port: int) -> socket.socket:
    """A listening socket of this worker's own on the shared port (uvicorn calls listen on it)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _ReportingServer(uvicorn.Server):
    """uvicorn's server, telling the pool once it listens and the app's start-up has run."""

    def __init__(self, config: uvicorn.Config, report: Connection) -> None:
        super().__init__(config)
        self.report = report

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.report.send_bytes(SERVING)


def run_worker(options: dict[str, Any], report: Connection, pool_pid: int) -> None:
    """A worker process's entry point (module level: the spawn start method imports it by name).

    The worker leaves the terminal's process group, so Ctrl-C reaches the pool alone and each worker is
    asked to stop once (a second signal would make uvicorn drop the requests in flight); and it stops
    itself when the pool is gone (killed), instead of holding the port with no one to restart it."""
    os.setpgrp()
    _stop_when_orphaned(pool_pid)
    config = uvicorn.Config(**options)
    try:
        sock = worker_socket(config.host, config.port)
    except OSError as error:
        logger.error("worker could not listen on %s:%s: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    _ReportingServer(config, report).run(sockets=[sock])


def _stop_when_orphaned(pool_pid: int) -> None:
    def watch() -> None:  # a pool gone before this worker started is noticed too
        while os.getppid() == pool_pid:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="hiraga-pool-watch", daemon=True).start()


@dataclass
class _Worker:
    process: BaseProcess
    reports: Connection  # the reading end of the worker's pipe
    served: bool = False

    def has_served(self) -> bool:
        if not self.served and self.reports.poll():
            with contextlib.suppress(EOFError):  # EOF: the worker ended without a word
                self.served = self.reports.recv_bytes() == SERVING
        return self.served


class WorkerPool:
    """``count`` processes running ``run_worker(options)``; ``run()`` returns the pool's exit status."""

    def __init__(self, options: dict[str, Any], count: int) -> None:
        self.options = {**options, "workers": 1}
        uvicorn.Config(**self.options)  # the pool's own lines are logged as the workers' are (text or JSON)
        self.count = count
        self.workers: list[_Worker] = []
        self.stopping = threading.Event()
        self.restarting = threading.Event()
        self.failed = False
        self.context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        handlers = {signal.SIGINT: self._stop, signal.SIGTERM: self._stop, signal.SIGHUP: self._restart}
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        try:
            self.workers = [self._start() for _ in range(self.count)]
            while not self.stopping.wait(0.5):
                if self.restarting.is_set():
                    self.restarting.clear()
                    self.restart_all()
                self.replace_dead_workers()
        finally:
            _retire(self.workers)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 1 if self.failed else 0

    def _start(self) -> _Worker:
        reports, report = self.context.Pipe(duplex=False)
        arguments = (self.options, report, os.getpid())
        process = self.context.Process(target=run_worker, args=arguments, name="hiraga-worker")
        process.start()
        report.close()  # the worker holds the writing end now
        return _Worker(process, reports)

    def replace_dead_workers(self) -> None:
        """A worker that served and ended is replaced; one that ended before serving stops the pool."""
        for index, worker in enumerate(self.workers):
            if worker.process.is_alive() or self.stopping.is_set():
                continue
            pid, code = worker.process.pid, worker.process.exitcode
            if not worker.has_served():
                logger.error("worker %s ended before it served (exit code %s); stopping every worker", pid, code)
                self.failed = True
                self.stopping.set()
                return
            logger.warning("worker %s ended (exit code %s); starting another", pid, code)
            self.workers[index] = self._start()

    def restart_all(self) -> None:
        """Replace each worker in turn; a replacement that does not come up ends the restart there."""
        for index, old in enumerate(list(self.workers)):
            new = self._start()
            if not self._wait_serving(new):
                if not self.stopping.is_set():
                    logger.error("new worker %s did not start serving; the running ones are kept", new.process.pid)
                _retire([new])
                return
            self.workers[index] = new
            _retire([old])
        logger.warning("every worker was replaced (SIGHUP)")

    def _wait_serving(self, worker: _Worker) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not worker.has_served():
            if not worker.process.is_alive() or self.stopping.is_set() or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _restart(self, signum: int, frame: FrameType | None) -> None:
        self.restarting.set()


def _retire(workers: list[_Worker]) -> None:
    """Ask each worker to stop (SIGTERM: uvicorn finishes the requests in flight, then the lifespan), all
    at once, and wait; one still running after SHUTDOWN_GRACE_S is killed."""
    for worker in workers:
        worker.reports.close()
        if worker.process.is_alive():
            worker.process.terminate()
    for worker in workers:
        worker.process.join(SHUTDOWN_GRACE_S)
        if worker.process.is_alive():
            logger.error("worker %s did not stop within %.0f s; killing it", worker.process.pid, SHUTDOWN_GRACE_S)
            worker.process.kill()
            worker.process.join()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
