"""The pipeline under faults, with real processes: gunicorn taking 20,000 events over HTTP, a
Celery worker (with celery beat inside it) on a Redis of the test's own, PostgreSQL.

- kill -9 of the worker in the middle of a batch: its transaction rolls back, its rows are
  claimed again by the next worker;
- a restart of Redis (which keeps nothing): wake-ups sent while it is down are lost, the
  requests are still answered once their events are committed, and the beat sweep finds the
  rows left waiting.

Either way: the timeline holds every unique event exactly once, and each person is one customer.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from customers.models import Customer, InboxEvent, TimelineEvent
from tests import factories
from tests.processes import (
    Sender,
    Service,
    encode_batches,
    process_env,
    start_gunicorn,
    start_redis,
    start_worker,
    wait_until,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("real-processes"),
]

PEOPLE = 1_800
EVENTS_PER_PERSON = 10
DUPLICATES = 2_000  # 18,000 unique events + 2,000 sent again = 20,000 sent
WORKER_APP = "ip-fault-test-worker"
WRITE_KEY = "fault-test-write-key"
T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")
CONSENT = {"consent": {"categoryPreferences": {"Analytics": True}}}


def _events() -> tuple[list[dict[str, Any]], set[str]]:
    """10 events per person; a fifth of the people browse anonymously first and then sign in.
    Shuffled a little, some sent twice."""
    rng = random.Random(2024)
    events = []
    for person in range(PEOPLE):
        starts_anonymous = person % 5 == 0
        for number in range(EVENTS_PER_PERSON):
            event: dict[str, Any] = {
                "type": "track",
                "event": "Product Viewed",
                "messageId": f"p{person}-{number}",
                "timestamp": (T0 + timedelta(seconds=person * 20 + number)).isoformat(),
                "properties": {"sku": f"NW-{number}"},
            }
            if starts_anonymous and number < 4:
                event.update(anonymousId=f"a{person}", context=CONSENT)
            elif starts_anonymous and number == 4:
                event.update(type="identify", anonymousId=f"a{person}", userId=f"u{person}")
                del event["event"], event["properties"]
            else:
                event["userId"] = f"u{person}"
            events.append(event)
    unique = {event["messageId"] for event in events}
    sent = events + rng.sample(events, DUPLICATES)
    rng.shuffle(sent)  # late and early arrivals everywhere
    return sent, unique


@dataclass
class Stack:
    tmp_path: Path
    env: dict[str, str]
    redis: Service
    gunicorn: Service
    worker: Service

    def services(self) -> list[Service]:
        return [self.worker, self.gunicorn, self.redis]


@pytest.fixture
def stack(transactional_db: Any, tmp_path: Path) -> Iterator[Stack]:
    factories.SourceFactory(name="web-store", channel="web", write_key=WRITE_KEY)
    database = connection.settings_dict["NAME"]
    redis = start_redis(tmp_path)
    env = process_env(database_name=database, redis_port=redis.port, INBOX_SWEEP_INTERVAL_S="1")
    worker_env = {
        **env,
        "DATABASE_URL": f"{env['DATABASE_URL']}?application_name={WORKER_APP}",
    }
    started: list[Service] = [redis]
    try:
        started.append(gunicorn := start_gunicorn(env, tmp_path))
        started.append(worker := start_worker(worker_env, tmp_path, with_beat=True))
        stack = Stack(tmp_path, worker_env, redis, gunicorn, worker)
        yield stack
        started = stack.services()
    finally:
        for service in started:
            service.stop()


def _count(sql: str, *params: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def _worker_is_inside_a_batch() -> bool:
    """A worker connection holds a transaction that has written (claimed rows, inserted)."""
    return (
        _count(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND backend_xid IS NOT NULL "
            "AND query LIKE %s",  # not the beat scheduler's own writes
            WORKER_APP,
            "%customers_%",
        )
        > 0
    )


def _timeline_count() -> int:
    return _count("SELECT count(*) FROM customers_timelineevent")


def _send_in_background(sender: Sender, bodies: list[bytes]) -> threading.Thread:
    thread = threading.Thread(target=sender.send, args=(bodies,))
    thread.start()
    return thread


def _assert_exact(unique: set[str], sent: int, sender: Sender) -> None:
    assert sender.answers == [200] * sent
    on_timeline = list(TimelineEvent.objects.values_list("message_id", flat=True))
    assert len(on_timeline) == len(unique)  # none doubled
    assert set(on_timeline) == unique  # none lost
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
    assert Customer.objects.filter(merged_into__isnull=True).count() == PEOPLE
    for person in (0, 1, 5):  # an anonymous starter and two known from the start
        customer = Customer.objects.get(identities__value=f"u{person}")
        assert customer.events.count() == EVENTS_PER_PERSON


def test_kill_9_of_the_worker_mid_batch_loses_and_doubles_nothing(stack: Stack) -> None:
    # given: 20,000 events on their way in
    events, unique = _events()
    bodies = encode_batches(events, size=100)
    sender = Sender(port=stack.gunicorn.port, write_key=WRITE_KEY)
    sending = _send_in_background(sender, bodies)
    # when: the worker is killed while it holds a batch's transaction open
    wait_until(_worker_is_inside_a_batch, timeout_s=60, what="the worker to be inside a batch")
    stack.worker.kill()
    placed_at_kill = _timeline_count()
    assert placed_at_kill < len(unique)
    # and a new worker takes over
    stack.worker = start_worker(stack.env, stack.tmp_path, name="worker-2", with_beat=True)
    sending.join(timeout=300)
    # then
    wait_until(
        lambda: _timeline_count() >= len(unique) and not _pending(),
        timeout_s=180,
        what="the timeline to be complete",
    )
    _assert_exact(unique, len(bodies), sender)
    assert "Traceback" not in stack.worker.log(), stack.worker.log()[-3000:]


def test_a_redis_restart_during_ingest_loses_and_doubles_nothing(stack: Stack) -> None:
    # given: the first half of 20,000 events sent, the worker busy with them
    events, unique = _events()
    bodies = encode_batches(events, size=100)
    half = len(bodies) // 2
    sender = Sender(port=stack.gunicorn.port, write_key=WRITE_KEY)
    sender.send(bodies[:half])
    wait_until(_worker_is_inside_a_batch, timeout_s=60, what="the worker to be inside a batch")
    # when: Redis dies (it keeps nothing), and once the worker has finished what it was doing,
    # the second half arrives: every wake-up for it is lost
    stack.redis.kill()
    wait_until(_quiet(), timeout_s=120, what="the worker to finish its running tasks")
    sender.send(bodies[half:])
    waiting_for_the_sweep = _pending()
    # and Redis comes back, empty, on the same port; nobody sends anything more
    stack.redis = start_redis(stack.tmp_path, port=stack.redis.port)
    # then: the worker reconnects and only the beat sweep can find what was left waiting
    wait_until(
        lambda: _timeline_count() >= len(unique) and not _pending(),
        timeout_s=180,
        what="the timeline to be complete",
    )
    assert waiting_for_the_sweep > 0
    _assert_exact(unique, len(bodies), sender)
    assert "could not wake an inbox worker" in stack.gunicorn.log()


def _quiet() -> Any:
    """A condition that holds once no worker transaction was seen and the pending count did not
    move for a second of polls (a drain between two batches is not quiet for that long)."""
    seen: list[int] = []

    def condition() -> bool:
        seen.append(-1 if _worker_is_inside_a_batch() else _pending())
        recent = seen[-20:]
        return len(recent) == 20 and len(set(recent)) == 1 and recent[0] != -1

    return condition


def _pending() -> int:
    return _count("SELECT count(*) FROM customers_inboxevent WHERE status = 'pending'")
