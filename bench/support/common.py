"""Shared by the benchmarks. Each benchmark creates its own database (and drops it at the end),
starts its own Redis, gunicorn and worker (stopped through their own ids, see
``tests/processes.py``) and talks to them only on 127.0.0.1. Nothing else is touched.

Import this only after the repository root is on ``sys.path`` (the scripts do that first)."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2

from tests.processes import ROOT

ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def admin_connection() -> Any:
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    return connection


@contextmanager
def bench_database(name: str, env: dict[str, str]) -> Iterator[None]:
    """Create database ``name`` (only ever an ``ip_bench_*`` one), migrate it, drop it after."""
    bench_database_create(name, env)
    try:
        yield
    finally:
        bench_database_drop(name)


def bench_database_create(name: str, env: dict[str, str]) -> None:
    """Create database ``name`` (only ever an ``ip_bench_*`` one) afresh and migrate it."""
    assert name.startswith("ip_bench_"), name
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def bench_database_drop(name: str) -> None:
    """Drop database ``name`` (only ever an ``ip_bench_*`` one), closing our connections."""
    assert name.startswith("ip_bench_"), name
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def setup_django(env: dict[str, str]) -> None:
    """Point this process's Django at the benchmark's database (the same settings as the
    servers it starts)."""
    os.environ.update(env)
    import django

    django.setup()


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, other: LoadResult) -> LoadResult:
        statuses = dict(self.statuses)
        for status, count in other.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        return LoadResult(
            requests=self.requests + other.requests,
            seconds=self.seconds + other.seconds,
            latencies_ms=self.latencies_ms + other.latencies_ms,
            statuses=statuses,
        )

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    def summary(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_rps": round(self.per_second, 1),
            f"{prefix}_p50_ms": round(statistics.median(self.latencies_ms), 2),
            f"{prefix}_p99_ms": round(self.percentile(0.99), 2),
        }


def fixed(path: str, headers: dict[str, str]) -> Callable[[int], tuple[str, dict[str, str]]]:
    """A request function for :func:`hammer` that asks for the same page every time."""

    def request(_number: int) -> tuple[str, dict[str, str]]:
        return path, headers

    return request


def hammer(
    port: int,
    request: Callable[[int], tuple[str, dict[str, str]]],
    *,
    threads: int,
    seconds: float,
    warm_up_s: float = 1.0,
) -> LoadResult:
    """GET what ``request(n)`` names from ``threads`` keep-alive clients for ``seconds`` (after a
    warm-up); every answer must be 200."""
    lock = threading.Lock()
    result = LoadResult(requests=0, seconds=seconds)
    start = time.perf_counter() + warm_up_s
    stop = start + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent = 0
        while (now := time.perf_counter()) < stop:
            path, headers = request(number * 1_000_000 + sent)
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            took_ms = (time.perf_counter() - began) * 1000
            sent += 1
            if now >= start:
                with lock:
                    result.requests += 1
                    result.latencies_ms.append(took_ms)
                    result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
        connection.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + warm_up_s + 60)
    assert set(result.statuses) == {200}, result.statuses
    return result


def repo_root() -> Path:
    return ROOT
