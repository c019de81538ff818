"""Dashboard benchmark: the marketer dashboards' server time on a small and a large history,
and what an incremental rollup refresh costs beside a full rebuild.

Two phases, each in its own process and its own database (created and dropped here):

- **small**: the demo shop with a year of history of about 50k timeline events;
- **large**: the large demo shop (100,000 customers) with a year of about 5M events and
  500k orders.

In each, every dashboard page (a marketer signed in, the last 365 days, no filters) is requested
through Django's full request cycle in-process, ``REQUESTS`` times; the median is its server
time. Beside them, ``raw_channel_mix_ms`` is the first dashboard's figures computed straight from
the raw orders and events (what the rollups save). In the large phase, 100,000 new events for
25,000 customers arrive over the last day; ``refresh_s`` is the incremental refresh that picks
them up, ``full_rebuild_s`` a rebuild of the whole year.

Prints one JSON line. Targets: every dashboard at the large set within 1.5x of the small set;
refresh under a tenth of a full rebuild. Run: ``.venv/bin/python bench/dashboards.py`` (about
15 minutes on 2 cores, most of it writing the large history).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 15
NEW_EVENTS = 100_000
NEW_EVENT_CUSTOMERS = 25_000
#: The small set's busyness, so that its year holds about 50k events.
SMALL_INTENSITY = 2.35
TARGET_LARGE_VS_SMALL = 1.5
TARGET_REFRESH_VS_REBUILD = 0.1


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--phase":
        print(json.dumps(_phase(sys.argv[2])))
        return
    small = _run_phase("small")
    large = _run_phase("large")
    summary: dict[str, Any] = {"benchmark": "dashboards"}
    for name, figures in (("small", small), ("large", large)):
        for key, value in figures.items():
            summary[f"{name}_{key}"] = value
    ratios = {
        f"{slug}_large_vs_small": round(large[f"{slug}_ms"] / small[f"{slug}_ms"], 2)
        for slug in _slugs()
    }
    summary.update(ratios)
    summary["refresh_vs_full_rebuild"] = round(large["refresh_s"] / large["full_rebuild_s"], 4)
    summary["target_large_vs_small"] = TARGET_LARGE_VS_SMALL
    summary["target_refresh_vs_rebuild"] = TARGET_REFRESH_VS_REBUILD
    summary["target_met"] = (
        all(ratio <= TARGET_LARGE_VS_SMALL for ratio in ratios.values())
        and summary["refresh_vs_full_rebuild"] < TARGET_REFRESH_VS_REBUILD
    )
    print(json.dumps(summary))


def _slugs() -> list[str]:
    return ["channel-mix", "web-in-stores", "multichannel", "funnel", "service"]


def _run_phase(size: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--phase", size],
        cwd=ROOT,
        check=True,
        timeout=1800,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _phase(size: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bench.support.common import bench_database, setup_django
    from tests.processes import process_env

    database = f"ip_bench_dashboards_{size}"
    env = process_env(
        database_name=database,
        redis_port=None,
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    with bench_database(database, env):
        setup_django(env)
        figures = _seed(size)
        figures.update(_measure_pages())
        figures["raw_channel_mix_ms"] = _raw_channel_mix_ms()
        if size == "large":
            figures.update(_refresh_against_rebuild())
    return figures


def _seed(size: str) -> dict[str, Any]:
    from interaction_platform import demo

    demo.HISTORY_INTENSITY["small"] = SMALL_INTENSITY
    started = time.perf_counter()
    counts = demo.seed(size=size)
    return {
        "events": counts["events"],
        "orders": counts["orders"],
        "customers": counts["customers"],
        "seed_s": round(time.perf_counter() - started, 1),
    }


def _measure_pages() -> dict[str, float]:
    from django.test import Client

    from interaction_platform.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="marketer"))
    timings = {}
    for slug in _slugs():
        took = []
        for _ in range(REQUESTS + 2):
            began = time.perf_counter()
            response = client.get(f"/marketing/dashboards/{slug}/")
            took.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (slug, response.status_code)
        timings[f"{slug}_ms"] = round(statistics.median(took[2:]), 2)
    return timings


def _raw_channel_mix_ms() -> float:
    """The channel mix's orders, revenue and active customers from the raw rows, as a
    dashboard without rollups would have to compute them."""
    from datetime import timedelta

    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from customers.models import TimelineEvent
    from orders.models import Order, OrderStatus

    since = timezone.now() - timedelta(days=365)
    began = time.perf_counter()
    list(
        Order.objects.filter(placed_at__gte=since)
        .exclude(status=OrderStatus.CANCELLED)
        .annotate(day=TruncDate("placed_at"))
        .values("day", "channel")
        .annotate(orders=Count("id"), revenue=Sum("total"))
        .order_by()
    )
    list(
        TimelineEvent.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "channel")
        .annotate(customers=Count("customer_id", distinct=True))
        .order_by()
    )
    return round((time.perf_counter() - began) * 1000, 1)


def _refresh_against_rebuild() -> dict[str, Any]:
    import random
    from datetime import timedelta

    from django.utils import timezone

    from channels.marketing.rollups import rollups_rebuild_all, rollups_refresh
    from customers.models import Customer, TimelineEvent
    from interaction_platform.choices import Channel

    rng = random.Random(6)
    customer_ids = list(Customer.objects.values_list("id", flat=True))
    chosen = rng.sample(customer_ids, NEW_EVENT_CUSTOMERS)
    now = timezone.now()
    kinds = [
        (Channel.WEB, "Product Viewed"),
        (Channel.WEB, "Product Added"),
        (Channel.APP, "Product Viewed"),
        (Channel.EMAIL, "Email Opened"),
        (Channel.PRINT, "QR Scanned"),
    ]
    rows = []
    for number in range(NEW_EVENTS):
        channel, kind = rng.choice(kinds)
        occurred = now - timedelta(seconds=rng.randrange(86_400))
        rows.append(
            TimelineEvent(
                customer_id=chosen[number % NEW_EVENT_CUSTOMERS],
                occurred_at=occurred,
                received_at=now,
                channel=channel,
                type=kind,
                source="bench",
                message_id=f"bench-new:{number}",
            )
        )
    TimelineEvent.objects.bulk_create(rows, batch_size=5_000)
    began = time.perf_counter()
    refreshed = rollups_refresh()
    refresh_s = time.perf_counter() - began
    began = time.perf_counter()
    rollups_rebuild_all()
    full_rebuild_s = time.perf_counter() - began
    return {
        "refresh_s": round(refresh_s, 2),
        "refresh_days": refreshed.days,
        "refresh_customer_months": refreshed.customer_months,
        "full_rebuild_s": round(full_rebuild_s, 2),
    }


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
