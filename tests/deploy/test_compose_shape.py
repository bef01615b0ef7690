"""The scale-out shape of deploy/compose/docker-compose.yml, run as processes: the exact commands and
environment of its services (containers are not available here), against the machine's PostgreSQL
and Redis, with the stub model server as upstream.

* a replica started before the migration job is alive but not ready, and says why in its log;
* two migration jobs at once both succeed (one waits on the advisory lock);
* a rolling upgrade — the schema moves ahead of the running code (a newer hiraga's additive
  migration), then each replica in turn leaves the pool, is stopped with SIGTERM while its streamed
  answers are still running, and is replaced — fails no request.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from cli.processes import HIRAGA, free_port
from postgres_support import fresh_databases

pytestmark = pytest.mark.slow
COMPOSE = Path(__file__).parents[2] / "deploy" / "compose" / "docker-compose.yml"
PASSWORD = "Kasumigaseki-2026!"
DRAIN_SECONDS = 0.5


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


@pytest.fixture
def fresh_database() -> Iterator[str]:
    with fresh_databases("hiraga_compose") as (url,):
        yield url


class Shape:
    """The compose services' commands with the compose environment, hosts mapped to this machine."""

    def __init__(self, compose: dict[str, Any], database_url: str, tmp_path: Path) -> None:
        self.services = compose["services"]
        self.tmp = tmp_path
        self.stub_port = free_port()
        env = {k: str(v) for k, v in compose["x-hiraga"]["environment"].items()}
        env |= {
            "HIRAGA_DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
            "HIRAGA_REDIS_URL": "redis://127.0.0.1:6379/0",
            "HIRAGA_SECRET_KEY": "compose-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "HIRAGA_BASE_URL": "http://127.0.0.1",
            "HIRAGA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",
            "HIRAGA_METRICS_TOKEN": "",
            "HIRAGA_AUDIT_ANCHOR_FILE": str(tmp_path / "anchors" / "audit-anchors.log"),
        }
        (tmp_path / "anchors").mkdir()
        assert env["HIRAGA_ENVIRONMENT"] == "production"
        # production refuses the suite's cheap argon2 profile: the containers' hashing is used
        base = {k: v for k, v in os.environ.items() if not k.startswith("HIRAGA_")}
        self.env = base | env | {"PYTHONUNBUFFERED": "1"}

    def command(self, service: str, *extra: str, **replace: str) -> list[str]:
        spec = self.services[service]
        entrypoint = spec.get("entrypoint", [HIRAGA])
        if entrypoint[0] == "python":
            entrypoint = [sys.executable, *entrypoint[1:]]
        return [*entrypoint, *[replace.get(word, word) for word in spec["command"]], *extra]

    def start(self, service: str, name: str, *extra: str, **replace: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        data_dir = self.tmp / name
        return subprocess.Popen(
            self.command(service, *extra, **replace),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env | {"HIRAGA_DATA_DIR": str(data_dir)},
        )

    def run(self, *words: str, stdin: str = "") -> str:
        done = subprocess.run(
            [HIRAGA, *words],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env | {"HIRAGA_DATA_DIR": str(self.tmp / "cli")},
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")


class Replica:
    def __init__(self, shape: Shape, name: str, port: int | None = None) -> None:
        self.name, self.port = name, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = shape.start("serve-a", name, **{"0.0.0.0": "127.0.0.1", "8000": str(self.port)})

    def status(self, path: str) -> int | None:
        try:
            return httpx.get(self.url + path, timeout=2).status_code
        except httpx.TransportError:
            return None

    def wait_for(self, path: str, status: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited"
            if self.status(path) == status:
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: {path} never answered {status}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


class Load:
    """Clients of the proxy: chat requests, streamed and not, spread over the replicas in the pool."""

    def __init__(self, key: str) -> None:
        self.key, self.lock = key, threading.Lock()
        self.pool: list[Replica | Proxy] = []
        self.ok: dict[str, int] = {}
        self.failures: list[str] = []
        self.running = True

    def chat(self, replica: Replica | Proxy, stream: bool) -> None:
        body = {
            "model": "default",
            "stream": stream,
            "messages": [{"role": "user", "content": "住民票の写しの請求方法"}],
        }
        headers = {"authorization": f"Bearer {self.key}"}
        try:
            url = replica.url + "/v1/chat/completions"
            with httpx.stream("POST", url, json=body, headers=headers, timeout=30, verify=False) as r:
                text = "".join(r.iter_text())
            if r.status_code != 200 or "住民票" not in text or (stream and "[DONE]" not in text):
                self.failures.append(f"{replica.name} {r.status_code} {text[:200]}")
                return
            with self.lock:
                self.ok[replica.name] = self.ok.get(replica.name, 0) + 1
        except httpx.HTTPError as error:
            self.failures.append(f"{replica.name} {type(error).__name__}: {error}")

    def loop(self, index: int) -> None:
        n = 0
        while self.running:
            with self.lock:
                replica = self.pool[(index + n) % len(self.pool)]
            self.chat(replica, stream=n % 2 == 0)
            n += 1


def test_unmigrated_replica_waits_migrations_queue_and_a_rolling_upgrade_fails_nothing(
    compose: dict[str, Any], fresh_database: str, tmp_path: Path
) -> None:
    shape = Shape(compose, fresh_database, tmp_path)
    # streamed answers take about a second, so some are always in flight when a replica is stopped
    stub_args = {"0.0.0.0": "127.0.0.1", "8001": str(shape.stub_port)}
    stub = shape.start("model-stub", "stub", "--chunk-delay", "0.15", **stub_args)
    worker: subprocess.Popen[bytes] | None = None
    replicas = [Replica(shape, "serve-a")]
    try:
        replicas[0].wait_for("/healthz", 200)
        assert replicas[0].status("/readyz") == 503  # alive, not ready: the schema is not there yet
        jobs = [shape.start("migrate", f"migrate-{i}") for i in (1, 2)]  # two at once: one waits
        assert [job.wait(timeout=120) for job in jobs] == [0, 0], shape.log("migrate-1") + shape.log("migrate-2")
        replicas[0].wait_for("/readyz", 200)
        said = [json.loads(line) for line in shape.log("serve-a").splitlines() if line.startswith("{")]
        assert any("hiraga db upgrade" in entry["message"] and entry["level"] == "warning" for entry in said)
        replicas.append(Replica(shape, "serve-b"))
        replicas[1].wait_for("/readyz", 200)
        worker = shape.start("worker", "worker")
        key = _operator_setup(shape)
        load = Load(key)
        load.pool.extend(replicas)
        threads = [threading.Thread(target=load.loop, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        _newer_hiraga_migrates(fresh_database)
        assert all(r.status("/readyz") == 200 for r in replicas)  # old code on a newer schema stays ready
        for index, old in enumerate(list(replicas)):
            in_flight = [threading.Thread(target=load.chat, args=(old, True)) for _ in range(3)]
            for thread in in_flight:
                thread.start()
            with load.lock:
                load.pool.remove(old)  # the proxy / the Service stops sending it new requests
            time.sleep(DRAIN_SECONDS)  # the chart's preStop wait: requests already sent to it arrive
            assert any(thread.is_alive() for thread in in_flight)  # answers still streaming
            old.stop()  # SIGTERM: uvicorn finishes the answers in flight
            for thread in in_flight:
                thread.join()
            new = Replica(shape, f"{old.name}-v2")
            new.wait_for("/readyz", 200)
            with load.lock:
                load.pool.append(new)
            replicas[index] = new
            time.sleep(1)
        load.running = False
        for thread in threads:
            thread.join()
        assert load.failures == []
        assert all(load.ok.get(name, 0) > 0 for name in ("serve-a", "serve-b", "serve-a-v2", "serve-b-v2")), load.ok
        assert worker.poll() is None and "ワーカーを開始しました" in shape.log("worker")
        metrics = httpx.get(replicas[0].url + "/metrics").text
        assert 'hiraga_model_calls_total{endpoint="stub",kind="chat",outcome="ok"}' in metrics
    finally:
        for replica in replicas:
            replica.stop()
        for process in (worker, stub):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def _operator_setup(shape: Shape) -> str:
    """What docs/operations.md has the operator run once: the built-in 0.5B model out of the way, the
    model server as "default", the first users, a key."""
    shape.run("models", "remove", "hiraga-embedded-qwen2.5-coder-0.5b")
    shape.run(
        "models", "add", "stub", "--base-url", f"http://127.0.0.1:{shape.stub_port}/v1", "--upstream-model", "stub",
        "--internal", "--clearance", "3", "--all-teams", "--alias", "default",
    )  # fmt: skip
    shape.run("admin", "create-org", "A市")
    shape.run("admin", "create-team", "市民課", "--org", "A市")
    shape.run(
        "admin",
        "create-user",
        "clerk@city.example.lg.jp",
        "--password-stdin",
        "--team",
        "市民課",
        stdin=PASSWORD + "\n",
    )
    out = shape.run("admin", "create-key", "clerk@city.example.lg.jp")
    return next(word for word in out.split() if word.startswith("hk-"))


def _newer_hiraga_migrates(database_url: str) -> None:
    """An additive migration of a later version: a new nullable column and a revision this code does not know."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE organisations ADD COLUMN newer_note VARCHAR(100)"))
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_newer'"))
    engine.dispose()


class Proxy:
    """deploy/compose/nginx.conf in a real nginx: the replicas' service names mapped to their ports, a
    throwaway certificate, the listen ports moved to free ones (and nginx < 1.25.1's http2 syntax)."""

    def __init__(self, tmp: Path, ports: dict[str, int]) -> None:
        self.name, self.port = "proxy", free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        conf = (Path(__file__).parents[2] / "deploy" / "compose" / "nginx.conf").read_text(encoding="utf-8")
        for service, port in ports.items():
            conf = conf.replace(f"{service}:8000", f"127.0.0.1:{port}")
        conf = conf.replace("/etc/nginx/tls", str(tmp)).replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        conf = conf.replace("listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;").replace(
            "http {", "http {\n  access_log off;"
        )
        version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
        if any(f"nginx/1.{minor}." in version for minor in range(10, 25)):
            conf = conf.replace("http2 on;", "").replace(" ssl;", " ssl http2;")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-keyout", str(tmp / "tls.key"), "-out", str(tmp / "tls.crt")],
            check=True, capture_output=True,
        )  # fmt: skip
        (tmp / "nginx.conf").write_text(conf, encoding="utf-8")
        globals_ = f"daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log;"
        self.process = subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-g", globals_])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", verify=False, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("nginx did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown
            self.process.wait(timeout=30)


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None, reason="nginx and openssl")
def test_through_the_compose_proxy_a_restart_of_each_replica_fails_nothing(
    compose: dict[str, Any], fresh_database: str, tmp_path: Path
) -> None:
    """What ``docker compose up -d --no-deps serve-a`` does: stop the container (SIGTERM) and start the
    new one under the same name and port, while nginx keeps sending requests to both."""
    shape = Shape(compose, fresh_database, tmp_path)
    stub = shape.start(
        "model-stub", "stub", "--chunk-delay", "0.15", **{"0.0.0.0": "127.0.0.1", "8001": str(shape.stub_port)}
    )
    assert shape.start("migrate", "migrate").wait(timeout=120) == 0, shape.log("migrate")
    replicas = [Replica(shape, "serve-a"), Replica(shape, "serve-b")]
    (tmp_path / "nginx").mkdir()
    proxy: Proxy | None = None
    try:
        for replica in replicas:
            replica.wait_for("/readyz", 200)
        load = Load(_operator_setup(shape))
        proxy = Proxy(tmp_path / "nginx", {r.name: r.port for r in replicas})
        load.pool.append(proxy)
        threads = [threading.Thread(target=load.loop, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        for index, old in enumerate(list(replicas)):
            old.stop()
            replicas[index] = Replica(shape, f"{old.name}-v2", port=old.port)
            replicas[index].wait_for("/readyz", 200)
            time.sleep(1)
        load.running = False
        for thread in threads:
            thread.join()
        assert load.failures == []
        assert load.ok.get("proxy", 0) >= 8, load.ok
    finally:
        if proxy is not None:
            proxy.stop()
        for replica in replicas:
            replica.stop()
        stub.terminate()
        stub.wait(timeout=30)
