"""Dashboard benchmark: the marketer dashboards' server time on a small and a large history,
and what an incremental rollup refresh costs beside a full rebuild.

Two phases, each in its own process and its own database (created and dropped here):

- **small**: the demo shop with a year of history of about 50k timeline events;
- **large**: the large demo shop (100,000 customers, a simulated year for 5,000 of them),
  to which this benchmark adds 5M timeline events, 500k orders with 1M lines and 20k cases
  spread over the year, written by PostgreSQL itself (``generate_series``): simulating that
  many customers' year in Python would take most of an hour on 2 cores.

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
        timeout=3600,
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
        figures = _seed(LARGE_SHOP if size == "large" else size)
        if size == "large":
            figures.update(_bulk_history())
        figures.update(_measure_pages())
        figures["raw_channel_mix_ms"] = _raw_channel_mix_ms()
        if size == "large":
            figures.update(_refresh_against_rebuild())
        figures.update(_counts())
    return figures


def _seed(size: str) -> dict[str, Any]:
    from interaction_platform import demo

    demo.HISTORY_INTENSITY["small"] = SMALL_INTENSITY
    started = time.perf_counter()
    counts = demo.seed(size=size)
    return {"customers": counts["customers"], "seed_s": round(time.perf_counter() - started, 1)}


def _counts() -> dict[str, int]:
    from customers.models import TimelineEvent
    from orders.models import Order

    return {"events": TimelineEvent.objects.count(), "orders": Order.objects.count()}


#: For a quick check of this script only: BENCH_DASHBOARDS_SCALE=0.01 writes 1% of the rows,
#: BENCH_DASHBOARDS_LARGE_SHOP=small adds them to the small shop.
SCALE = float(os.environ.get("BENCH_DASHBOARDS_SCALE", "1"))
LARGE_SHOP = os.environ.get("BENCH_DASHBOARDS_LARGE_SHOP", "large")
BULK_EVENTS = int(5_000_000 * SCALE)
BULK_ORDERS = int(500_000 * SCALE)
BULK_CASES = int(20_000 * SCALE)
# One statement per table; ``g`` numbers the rows, and every choice is a function of it (a
# multiplicative hash spreads customers and channels), so every run writes the same rows. Rows
# come in time order, as they would have arrived, over the last 365 days.
_BULK_EVENTS_SQL = """
INSERT INTO customers_timelineevent
    (customer_id, occurred_at, received_at, channel, type, source, message_id, store_id,
     properties)
SELECT c.first + (g * 7919) %% c.n,
       t.at, t.at, ch.channel,
       CASE ch.channel WHEN 'web' THEN (ARRAY['Product Viewed', 'Product Added',
            'Checkout Started', 'Checkout Step Completed', 'Payment Info Entered',
            'Order Completed'])[1 + g %% 6]
            WHEN 'app' THEN
                (ARRAY['Product Viewed', 'Product Added', 'Checkout Started'])[1 + g %% 3]
            WHEN 'email' THEN 'Email Opened' WHEN 'print' THEN 'QR Scanned'
            WHEN 'store' THEN 'Store Visited' ELSE 'Call Started' END,
       'bench', 'bench:' || g,
       CASE WHEN ch.channel = 'store' THEN s.ids[1 + g %% array_length(s.ids, 1)] END,
       '{}'::jsonb
FROM generate_series(1::bigint, %(events)s) AS g
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM catalog_location
            WHERE kind = 'store') AS s
CROSS JOIN LATERAL (SELECT now() - ((%(events)s - g) * 31536000 / %(events)s
                                  + (g * 104729) %% 3600) * interval '1 second' AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['web', 'web', 'web', 'app', 'email', 'email', 'print',
                                  'store', 'store', 'call_centre'])[1 + (g * 31) %% 10]
                           AS channel) AS ch
"""
_BULK_ORDERS_SQL = """
INSERT INTO orders_order
    (number, customer_id, channel, origin_channel, store_id, status, fulfilment_method,
     pickup_code, tracking_reference, email, phone, delivery_address, billing_address, currency,
     prices_include_tax, tax_country, subtotal, discount_total, shipping_total, tax_total, total,
     paid_total, refunded_total, idempotency_key, request_fingerprint, placed_at, updated_at,
     cancel_reason)
SELECT 'BN' || lpad(g::text, 10, '0'), c.first + (g * 7907) %% c.n, ch.channel, ch.channel,
       CASE WHEN ch.channel = 'store' THEN s.ids[1 + g %% array_length(s.ids, 1)] END,
       'completed', CASE WHEN ch.channel = 'store' THEN 'carry_out' ELSE 'delivery' END,
       '', '', '', '', '{}', '{}', 'EUR', true, 'NL',
       m.total - m.tax, 0, 0, m.tax, m.total, m.total, 0, 'bench-order:' || g, '',
       p.placed_at, p.placed_at, ''
FROM generate_series(1::bigint, %(orders)s) AS g
CROSS JOIN LATERAL (SELECT now() - ((%(orders)s - g) * 31536000 / %(orders)s
                                  + (g * 104723) %% 3600) * interval '1 second'
                           AS placed_at) AS p
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM catalog_location
            WHERE kind = 'store') AS s
CROSS JOIN LATERAL (SELECT (ARRAY['web', 'web', 'app', 'store', 'store', 'store',
                                  'call_centre'])[1 + (g * 17) %% 7] AS channel) AS ch
CROSS JOIN LATERAL (SELECT (10 + g %% 90 + 5 + g %% 40)::numeric(12, 2) AS total) AS t0
CROSS JOIN LATERAL (SELECT t0.total, round(t0.total * 21 / 121, 2) AS tax) AS m
"""
_BULK_LINES_SQL = """
INSERT INTO orders_orderline
    (order_id, variant_id, sku, product_name, quantity, unit_price, tax_rate, discount,
     line_total, tax_amount, returned_quantity)
SELECT o.id, v.first + (k.position * 4099 + o.id * 31) %% v.n, 'BENCH', 'Bench product', 1,
       k.amount, 0.21, 0, k.amount, round(k.amount * 21 / 121, 2), 0
FROM orders_order AS o
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM catalog_variant) AS v
CROSS JOIN LATERAL (SELECT substr(o.number, 3)::bigint AS g) AS n
CROSS JOIN LATERAL (VALUES (1, (10 + n.g %% 90)::numeric(12, 2)),
                           (2, (5 + n.g %% 40)::numeric(12, 2))) AS k(position, amount)
WHERE o.number LIKE 'BN%%'
"""
_BULK_CASES_SQL = """
INSERT INTO customers_case
    (customer_id, channel, subject, description, status, resolution,
     is_resolved_on_first_contact, opened_at, resolved_at)
SELECT c.first + (g * 7901) %% c.n, ch.channel, 'Where is my order?', '', 'resolved',
       CASE ch.channel WHEN 'web' THEN 'self_service' WHEN 'store' THEN 'store' ELSE 'agent' END,
       g %% 3 > 0, t.at, t.at + (1 + g %% 72) * interval '1 hour'
FROM generate_series(1::bigint, %(cases)s) AS g
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN LATERAL (SELECT now() - interval '4 days'
                           - ((%(cases)s - g) * 31000000 / %(cases)s) * interval '1 second'
                           AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['web', 'call_centre', 'call_centre', 'store'])[1 + g %% 4]
                           AS channel) AS ch
"""


def _bulk_history() -> dict[str, Any]:
    """5M events, 500k orders (1M lines) and 20k cases over the last year, then the first
    rollup build over all of it."""
    from django.db import connection, transaction

    from channels.marketing.rollups import rollups_rebuild_all

    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_BULK_EVENTS_SQL, {"events": BULK_EVENTS})
        cursor.execute(_BULK_ORDERS_SQL, {"orders": BULK_ORDERS})
        cursor.execute(_BULK_LINES_SQL, {})
        cursor.execute(_BULK_CASES_SQL, {"cases": BULK_CASES})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    written_s = time.perf_counter() - began
    began = time.perf_counter()
    rollups_rebuild_all()
    return {
        "bulk_write_s": round(written_s, 1),
        "first_build_s": round(time.perf_counter() - began, 1),
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
    chosen = rng.sample(customer_ids, min(NEW_EVENT_CUSTOMERS, len(customer_ids)))
    now = timezone.now()
    kinds = [
        (Channel.WEB, "Product Viewed"),
        (Channel.WEB, "Product Added"),
        (Channel.APP, "Product Viewed"),
        (Channel.EMAIL, "Email Opened"),
        (Channel.PRINT, "QR Scanned"),
    ]
    rows = []
    for number in range(int(NEW_EVENTS * SCALE)):
        channel, kind = rng.choice(kinds)
        occurred = now - timedelta(seconds=rng.randrange(86_400))
        rows.append(
            TimelineEvent(
                customer_id=chosen[number % len(chosen)],
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
