"""Ingest benchmark: Segment events over HTTP to gunicorn and one Celery worker on PostgreSQL.

200,000 events are sent (10% of them repeats, 5% shuffled out of order) for 10,000 people, a
fifth of whom browse anonymously first and identify later. The clock runs from the first request
until the timeline is complete, which is then checked for exactness. In the same run, the same
timeline rows are loaded with a raw ``COPY`` into a table of the same shape (unique message id,
the customer/time index): the fastest the machine can write them. Prints one JSON line; the
target is ``ratio`` >= 0.10 on 2 cores.

Starts (and stops, through their ids) its own Redis, gunicorn (2 workers) and worker (-c 2, one
process per inbox shard);
creates and drops its own database ``ip_bench_ingest``. Run: ``.venv/bin/python bench/ingest.py``.
"""

from __future__ import annotations

import io
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ip_bench_ingest"
PEOPLE = 10_000
UNIQUE_PER_PERSON = 18  # 180,000 unique events
DUPLICATE_SHARE = 0.10  # of the events sent: 20,000 repeats, 200,000 sent
SHUFFLED_SHARE = 0.05
ANONYMOUS_FIRST_EVERY = 5  # a fifth of the people browse anonymously, then identify
ANONYMOUS_EVENTS = 6
BATCH = 100  # events per request
SENDER_THREADS = 4
# One worker process per inbox shard: people are partitioned over the shards, so the two
# processes do not meet (see docs/pipeline.md, "Scaling the workers").
INBOX_SHARDS = 2
WORKER_CONCURRENCY = 2
TIMELINE_COLUMNS = (
    "customer_id, occurred_at, received_at, channel, type, source, message_id, store_id, "
    "order_id, properties"
)
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def build_events(rng: random.Random) -> tuple[list[dict[str, Any]], set[str]]:
    """The stream as it would arrive: people interleaved in time, then 5% of the events moved
    to another place, then repeats (an SDK retrying) sent some time after the original."""
    consent = {"consent": {"categoryPreferences": {"Analytics": True}}}
    names = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
    events: list[tuple[datetime, dict[str, Any]]] = []
    for person in range(PEOPLE):
        starts_anonymous = person % ANONYMOUS_FIRST_EVERY == 0
        start = T0 + timedelta(seconds=rng.randrange(3600))
        for number in range(UNIQUE_PER_PERSON):
            at = start + timedelta(minutes=number * 5)
            event: dict[str, Any] = {
                "type": "track",
                "event": names[number % len(names)],
                "messageId": f"bench-{person}-{number}",
                "timestamp": at.isoformat(),
                "properties": {"sku": f"NW-{rng.randrange(5000):05d}", "price": 49.95},
            }
            if starts_anonymous and number < ANONYMOUS_EVENTS:
                event.update(anonymousId=f"anon-{person}", context=consent)
            elif starts_anonymous and number == ANONYMOUS_EVENTS:
                event = {
                    "type": "identify",
                    "messageId": event["messageId"],
                    "timestamp": event["timestamp"],
                    "anonymousId": f"anon-{person}",
                    "userId": f"user-{person}",
                    "traits": {"email": f"person{person}@example.com"},
                }
            else:
                event["userId"] = f"user-{person}"
            events.append((at, event))
    events.sort(key=lambda item: item[0])
    stream = [event for _, event in events]
    unique = {event["messageId"] for event in stream}
    moved = rng.sample(range(len(stream)), int(len(stream) * SHUFFLED_SHARE))
    targets = moved[:]
    rng.shuffle(targets)
    snapshot = stream[:]
    for source, target in zip(moved, targets, strict=True):
        stream[target] = snapshot[source]
    repeats = int(len(stream) * DUPLICATE_SHARE / (1 - DUPLICATE_SHARE))
    keyed = [(float(position), event) for position, event in enumerate(stream)]
    for original in rng.sample(range(len(stream)), repeats):
        keyed.append((original + rng.randrange(1, 5000) + 0.5, dict(stream[original])))
    keyed.sort(key=lambda item: item[0])
    return [event for _, event in keyed], unique


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.support.common import bench_database, setup_django
    from tests.processes import (
        Sender,
        encode_batches,
        process_env,
        start_gunicorn,
        start_redis,
        start_worker,
        wait_until,
    )

    rng = random.Random(20240501)
    events, unique = build_events(rng)
    bodies = encode_batches(events, size=BATCH)
    with tempfile.TemporaryDirectory(prefix="ip-bench-ingest-") as scratch:
        log_dir = Path(scratch)
        redis = start_redis(log_dir)
        env = process_env(
            database_name=DATABASE, redis_port=redis.port, INBOX_SHARDS=str(INBOX_SHARDS)
        )
        services = [redis]
        try:
            with bench_database(DATABASE, env):
                setup_django(env)
                from channels.ingest.services import source_create

                _source, write_key = source_create(name="web-store", channel="web")
                services.append(gunicorn := start_gunicorn(env, log_dir, workers=2))
                services.append(start_worker(env, log_dir, concurrency=WORKER_CONCURRENCY))
                sender = Sender(port=gunicorn.port, write_key=write_key, threads=SENDER_THREADS)
                began = time.perf_counter()
                sender.send(bodies)
                sent_s = time.perf_counter() - began
                wait_until(_inbox_is_empty, timeout_s=1800, what="the inbox to drain")
                elapsed_s = time.perf_counter() - began
                assert sender.answers == [200] * len(bodies), set(sender.answers)
                checked = _check(unique)
                copy_rows_per_s = _copy_baseline()
                for service in reversed(services[1:]):
                    service.stop()
                del services[1:]
        finally:
            for service in reversed(services):
                service.stop()
    events_per_s = len(events) / elapsed_s
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "events": len(events),
                "unique_events": len(unique),
                "people": PEOPLE,
                "requests": len(bodies),
                "seconds": round(elapsed_s, 2),
                "requests_done_s": round(sent_s, 2),
                "events_per_s": round(events_per_s, 1),
                "copy_rows_per_s": round(copy_rows_per_s, 1),
                "ratio": round(events_per_s / copy_rows_per_s, 3),
                **checked,
                "worker_concurrency": WORKER_CONCURRENCY,
                "inbox_shards": INBOX_SHARDS,
                "target_ratio": 0.10,
            }
        )
    )


def _inbox_is_empty() -> bool:
    from customers.models import InboxEvent, InboxStatus

    return not InboxEvent.objects.filter(status=InboxStatus.PENDING).exists()


def _check(unique: set[str]) -> dict[str, int]:
    """Exactness: every unique event on the timeline once, one live customer per person."""
    from django.db.models import Count

    from customers.models import Customer, InboxEvent, Merge, TimelineEvent

    on_timeline = list(TimelineEvent.objects.values_list("message_id", flat=True))
    placed = set(on_timeline)
    return {
        "timeline_rows": len(on_timeline),
        "lost": len(unique - placed),
        "duplicated": len(on_timeline) - len(placed) + len(placed - unique),
        "customers": Customer.objects.filter(merged_into__isnull=True).count(),
        "merges": Merge.objects.count(),
        "failed_rows": InboxEvent.objects.filter(status="failed").count(),
        "people_with_wrong_history": Customer.objects.filter(merged_into__isnull=True)
        .annotate(event_count=Count("events"))
        .exclude(event_count=UNIQUE_PER_PERSON)
        .count(),
    }


def _copy_baseline() -> float:
    """Rows per second of a raw COPY of the same timeline rows into a table of the same shape."""
    from django.db import connection

    buffer = io.StringIO()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.copy_expert(
            f"COPY (SELECT {TIMELINE_COLUMNS} FROM customers_timelineevent) TO STDOUT", buffer
        )
        cursor.execute("CREATE TABLE bench_copy (LIKE customers_timelineevent INCLUDING ALL)")
    rows = buffer.getvalue().count("\n")
    buffer.seek(0)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY bench_copy ({TIMELINE_COLUMNS}) FROM STDIN", buffer)
    took_s = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_copy")
        assert cursor.fetchone()[0] == rows
    return rows / took_s


if __name__ == "__main__":
    main()
