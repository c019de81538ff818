"""Webhooks through a real Celery worker and Redis, and a worker killed (-9) mid-delivery.

HTTP cannot give "exactly once": when a sender dies after the receiver got the request but
before the sender recorded the answer, nobody can tell whether it arrived. What the platform
guarantees, and this test shows, is: one delivery row per (endpoint, event), the request is
sent again after the dead worker's lease runs out, every copy carries the same ``webhook-id``
and a valid signature, and a receiver that drops repeated ids (as the Standard Webhooks
specification asks) processes the event exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from integrations import webhooks
from integrations.models import WebhookAttempt, WebhookDelivery
from integrations.tasks import webhook_sweep_task
from interaction_platform.celery import app as celery_app
from tests.integrations.receiver import Receiver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 40
LEASE_S = 4  # the worker's WEBHOOK_TIMEOUT_S + WEBHOOK_LEASE_MARGIN_S below


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Worker:
    """A Celery worker in its own process, consuming only this test's queue, known by its
    pidfile (never by name)."""

    def __init__(self, tmp_path: Path, queue: str, name: str) -> None:
        self.pidfile = tmp_path / f"{name}.pid"
        self.log = tmp_path / f"{name}.log"
        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "interaction_platform.settings_test",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            ),
            "REDIS_URL": settings.REDIS_URL,
            "WEBHOOK_TIMEOUT_S": "3",
            "WEBHOOK_LEASE_MARGIN_S": str(LEASE_S - 3),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "interaction_platform",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--pidfile",
                str(self.pidfile),
                "--hostname",
                f"{name}-{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait_for(lambda: self.pidfile.exists() and self.pidfile.read_text().strip(), "pidfile")
        self.pid = int(self.pidfile.read_text().strip())
        _wait_for(lambda: "ready" in self.log.read_text(), f"{name} to be ready")

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT_S)

    def stop(self) -> None:
        if self.process.poll() is None and _pid_alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=WAIT_S)


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own, on the real broker; removed afterwards."""
    name = f"test-webhooks-{uuid.uuid4().hex[:12]}"
    before = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = name
    yield name
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = before
    _forget_queue(name)


def _forget_queue(name: str) -> None:
    """Remove this test's queue from the broker, with the message the killed worker never
    acknowledged (kombu would otherwise restore it to the queue an hour later)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    for tag, raw in client.hgetall("unacked").items():
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key == name:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture
def workers(tmp_path: Path, queue: str) -> Iterator[Callable[[str], Worker]]:
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(tmp_path, queue, name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _emit(payload: dict[str, Any]) -> str:
    with transaction.atomic():
        event = webhooks.webhook_emit(event_type="stock.low", payload=payload)
    return event.event_id


def test_each_event_is_processed_once_even_when_the_worker_is_killed_mid_delivery(
    receiver: Receiver, workers: Callable[[str], Worker]
) -> None:
    # given: an endpoint, and a worker that delivers a first event normally
    endpoint, receiver.secret = webhooks.webhook_endpoint_create(
        name="ERP", url=receiver.url, event_types=["stock.low"]
    )
    first_worker = workers("first")
    normal_id = _emit({"sku": "NW-1"})
    _wait_for(
        lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 1, "first delivery"
    )
    assert [a.webhook_id for a in receiver.arrivals] == [normal_id]

    # when: the second event's receiver is slow, and the worker is killed while it waits
    with transaction.atomic():
        event = webhooks.webhook_emit(event_type="stock.low", payload={"sku": "NW-2"})
        receiver.hold_ids.add(event.event_id)
    assert receiver.held.wait(timeout=WAIT_S), "the delivery never reached the receiver"
    delivery = WebhookDelivery.objects.get(event__event_id=event.event_id)
    assert (delivery.status, delivery.attempts) == ("sending", 1)
    first_worker.kill()
    assert not _pid_alive(first_worker.pid)
    receiver.release.set()

    # and a new worker runs the sweep once the dead worker's lease has run out
    workers("second")
    time.sleep(LEASE_S + 0.5)
    webhook_sweep_task.delay()
    _wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="succeeded").exists(),
        "the redelivery",
    )

    # then: the request arrived twice with the same webhook-id and a valid signature …
    ids = [a.webhook_id for a in receiver.arrivals]
    assert ids == [normal_id, event.event_id, event.event_id]
    assert receiver.bad_signatures == 0
    # … the receiver processed each event exactly once …
    assert list(receiver.processed) == [normal_id, event.event_id]
    assert receiver.processed[event.event_id]["data"] == {"sku": "NW-2"}
    # … and the platform kept one delivery per (endpoint, event), now done
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    # the killed attempt never wrote its log line; the one that finished did
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
    ) == [(2, 200)]
