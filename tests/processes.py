"""The real processes some tests need — a Redis of their own, gunicorn, a Celery worker — and a
load generator that speaks to them over HTTP on 127.0.0.1.

Every process is started in a session of its own and stopped through its own id (the whole
process group it leads, so that a worker's pool children go with it). Every wait has a deadline.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET_KEY = "test-secret-key-for-processes-started-by-tests-0123456789"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0
    pid_file: Path | None = None

    def is_running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and everything it started: a crash, not a shutdown."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout_s: float = 15) -> None:
        if not self.is_running():
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            self._signal_group(signal.SIGKILL)  # pool children that outlived their parent

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _signal_group(self, number: int) -> None:
        # the group this service leads (its session was started for it): it, and its children
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)


def _start(name: str, command: Sequence[str], *, env: dict[str, str], log_dir: Path) -> Service:
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name=name, process=process, log_path=log_path)


def start_redis(log_dir: Path, *, port: int | None = None) -> Service:
    """A Redis of the test's own (nothing kept on disk), answering before this returns."""
    port = port or free_port()
    service = _start(
        "redis",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        env=dict(os.environ),
        log_dir=log_dir,
    )
    service.port = port
    wait_until(lambda: _redis_answers(port), timeout_s=15, what="redis-server")
    return service


def _redis_answers(port: int) -> bool:
    try:
        with closing(socket.create_connection(("127.0.0.1", port), timeout=0.5)) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def process_env(*, database_name: str, redis_port: int | None, **extra: str) -> dict[str, str]:
    """Production settings pointed at the test's database and the test's Redis (without one,
    Celery tasks run eagerly inside the process)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "interaction_platform.settings",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0" if redis_port else "",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_gunicorn(env: dict[str, str], log_dir: Path, *, workers: int = 2) -> Service:
    port = free_port()
    pid_file = log_dir / f"gunicorn-{port}.pid"
    service = _start(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "interaction_platform.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--pid",
            str(pid_file),
            "--graceful-timeout",
            "5",
        ],
        env=env,
        log_dir=log_dir,
    )
    service.port, service.pid_file = port, pid_file
    wait_until(lambda: _http_ok(port, "/healthz"), timeout_s=30, what="gunicorn")
    _check_pid_file(service)
    return service


def _http_ok(port: int, path: str) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False


def start_worker(
    env: dict[str, str],
    log_dir: Path,
    *,
    name: str = "worker",
    with_beat: bool = False,
    concurrency: int = 2,
) -> Service:
    """A Celery worker and, with ``with_beat``, the beat scheduler inside it."""
    pid_file = log_dir / f"{name}.pid"
    pid_file.unlink(missing_ok=True)
    command = [
        str(BIN / "celery"),
        "-A",
        "interaction_platform",
        "worker",
        "--concurrency",
        str(concurrency),
        "--pidfile",
        str(pid_file),
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
    if with_beat:
        command += ["--beat", "--schedule", str(log_dir / f"{name}-beat-schedule")]
    service = _start(name, command, env=env, log_dir=log_dir)
    service.pid_file = pid_file
    wait_until(
        lambda: pid_file.exists() and bool(pid_file.read_text().strip()),
        timeout_s=30,
        what=f"the {name}'s pid file",
    )
    _check_pid_file(service)
    return service


def _check_pid_file(service: Service) -> None:
    """The process we will stop is the one that wrote the pid file (not a shell around it)."""
    assert service.pid_file is not None
    assert int(service.pid_file.read_text().strip()) == service.process.pid, service.log()


# --- sending events ----------------------------------------------------------------------------


@dataclass
class Sender:
    """Posts pre-encoded batches to ``/v1/batch`` from a few threads with keep-alive
    connections; every answer must be 200."""

    port: int
    write_key: str
    threads: int = 4
    answers: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, bodies: Sequence[bytes]) -> None:
        chunks = [bodies[index :: self.threads] for index in range(self.threads)]
        workers = [threading.Thread(target=self._post_all, args=(chunk,)) for chunk in chunks]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=300)
        if any(worker.is_alive() for worker in workers):
            raise AssertionError("a sender thread hung")

    def _post_all(self, bodies: Sequence[bytes]) -> None:
        auth = "Basic " + base64.b64encode(f"{self.write_key}:".encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for body in bodies:
            connection.request(
                "POST",
                "/v1/batch",
                body,
                {"Content-Type": "application/json", "Authorization": auth},
            )
            response = connection.getresponse()
            response.read()
            with self._lock:
                self.answers.append(response.status)
        connection.close()


def encode_batches(events: Sequence[dict[str, Any]], *, size: int) -> list[bytes]:
    return [
        json.dumps({"batch": list(events[start : start + size])}).encode()
        for start in range(0, len(events), size)
    ]
